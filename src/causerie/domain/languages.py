"""The languages the inbox speaks, and the lines the server writes into a thread in none of them
(docs/inbox.md, "Languages").

An operator's `language` is one of LANGUAGES, or None for their browser's. An event line (a
transfer, an automatic resolution) is stored as a kind and its parameters (`messages.event`),
which the inbox words in its reader's language; its `body` keeps an English wording for the API's
other readers (webhooks, exports, transcripts, search).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from causerie.domain.errors import Invalid

# The inbox's catalogue (src/causerie/client/strings-inbox*.js) has exactly these; a test says so.
LANGUAGES = ("en", "fr")


def check_language(value: object) -> str | None:
    """`value` as an operator's language: one of LANGUAGES, or None (the browser's)."""
    if value is None or (isinstance(value, str) and value in LANGUAGES):
        return value
    shown = repr(value)[:20]
    choices = ", ".join(f'"{code}"' for code in LANGUAGES)
    raise Invalid(f"language: {shown} is not one of {choices} or null", "invalid_language")


class EventLine(StrEnum):
    TRANSFERRED = "transferred"
    AUTO_RESOLVED = "auto_resolved"


def transferred_line(to: str, by: str | None) -> tuple[dict[str, Any], str]:
    """A transfer to `to` (an operator's or a team's name), by `by`: its event and body."""
    event: dict[str, Any] = {"kind": EventLine.TRANSFERRED.value, "to": to}
    if by:
        event["by"] = by
    return event, f"Transferred to {to}" + (f" by {by}" if by else "")


def auto_resolved_line(minutes: int) -> tuple[dict[str, Any], str]:
    """An automatic resolution after `minutes` without messages: its event and body."""
    event = {"kind": EventLine.AUTO_RESOLVED.value, "minutes": minutes}
    return event, f"Resolved automatically after {minutes} minutes without messages"
