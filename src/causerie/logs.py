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
# A whole run of the characters an address (with a port or a zone) is made of: uvicorn writes
# an IPv6 client with its port and no brackets (`::1:34242 - "WebSocket /ws/visitor"`), where
# the address alone cannot be told from the run by a pattern, only by trying.
_RUN = re.compile(r"(?<![0-9A-Fa-f:.])[0-9A-Fa-f:.]*[:.][0-9A-Fa-f:.]*(?:%[0-9A-Za-z_.-]+)?")
_PORT = re.compile(r"(.+):(\d{1,5})")


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _redact_run(run: str) -> str:
    core = run.rstrip(".")  # the end of a sentence
    end = run[len(core) :]
    if _is_ip(core):
        return "[ip]" + end
    with_port = _PORT.fullmatch(core)
    if with_port and _is_ip(with_port.group(1)):
        return f"[ip]:{with_port.group(2)}{end}"
    return _CANDIDATE.sub(lambda m: "[ip]" if _is_ip(m.group(0)) else m.group(0), run)


def redact_ips(text: str) -> str:
    """`text` with every IPv4 or IPv6 address replaced by `[ip]`: bracketed or not, with a port
    or a zone or not, IPv4-mapped or not."""
    return _RUN.sub(lambda m: _redact_run(m.group(0)), text)


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
