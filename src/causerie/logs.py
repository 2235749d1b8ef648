"""Logging without IP addresses (P17): every handler passes records through `RedactIPs`.

uvicorn's own access log prints the client's address, so it is turned off and replaced by
`causerie.web.access_log`, which never records one. The filter is the second line of defence:
any address that reaches a log line, from any library, is replaced before it is written.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from typing import Any

_IPV4 = r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?!\d|\.\d)"
_IPV6 = (
    r"(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{0,4}:){2,7}"
    r"(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![0-9A-Fa-f:]|\.\d)"
)
_CANDIDATE = re.compile(f"{_IPV6}|{_IPV4}")


def redact_ips(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        try:
            ipaddress.ip_address(match.group(0))
        except ValueError:
            return match.group(0)
        return "[ip]"

    return _CANDIDATE.sub(replace, text)


class RedactIPs(logging.Filter):
    """Replaces addresses in the message, the exception text and the stack of a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact_ips(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_ips(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_ips(record.stack_info)
        return True


def logging_config(level: str) -> dict[str, Any]:
    """A dictConfig for Causerie and uvicorn, every handler filtered."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact_ips": {"()": RedactIPs}},
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "plain",
                "filters": ["redact_ips"],
                "stream": "ext://sys.stderr",
            },
        },
        "loggers": {
            "causerie": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
        },
        "root": {"handlers": ["stderr"], "level": "WARNING"},
    }
