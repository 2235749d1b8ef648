"""Mail (docs/notifications.md): what a mail is, the `Mailer` port that sends it, the operators'
notification preferences (declared once), and the per-conversation reply addresses.

A reply address is `reply+TOKEN@CAUSERIE_MAIL_DOMAIN`: TOKEN is 256 random bits in lower-case
base 32 (mail servers may lower-case the local part), stored only as its SHA-256.
"""

from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from causerie.domain.errors import Invalid, shown

REPLY_ADDRESS_TTL = timedelta(days=90)  # a reply address works this long after its mail left
_REPLY_LOCAL = re.compile(r"^reply\+([a-z2-7]{52})$")


@dataclass(frozen=True)
class Mail:
    """One mail to one recipient: both parts, and the headers every mail carries."""

    to: str
    subject: str
    text: str
    html: str
    unsubscribe_url: str  # List-Unsubscribe (RFC 8058 one-click: POSTed to)
    reply_to: str | None = None
    language: str = "en"


class MailRefused(Exception):
    """The mail server refused the recipient or the mail for good (a 5xx answer): retrying
    cannot help. Any other exception from `Mailer.send` is temporary and retried."""


class Mailer(Protocol):
    """Sends mail through the configured SMTP server (`causerie.mail.smtp`)."""

    @property
    def relay(self) -> str:
        """The server's host and port, never its credentials (the register lists it: P11)."""
        ...

    async def send(self, mail: Mail) -> None:
        """Send `mail`; `MailRefused` when the server refuses it for good."""
        ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class ReplyAddress:
    """Where a reply by mail goes: the conversation, as its visitor (`operator_id` None) or as
    that operator."""

    token_hash: str
    conversation_id: str
    session_id: str
    operator_id: str | None
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class MailFailure:
    """An address the mail server refused for good: shown to the website's agents."""

    id: str
    website_id: str
    address: str
    error: str
    failed_at: datetime
    session_id: str | None = None
    operator_id: str | None = None


def new_reply_token() -> str:
    return base64.b32encode(secrets.token_bytes(32)).decode("ascii").rstrip("=").lower()


def reply_address(token: str, domain: str) -> str:
    return f"reply+{token}@{domain}"


def reply_token_of(address: str, domain: str) -> str | None:
    """The token of `reply+TOKEN@domain` (any case), or None for any other address."""
    local, at, host = address.strip().strip("<>").rpartition("@")
    if not at or host.lower() != domain.lower():
        return None
    match = _REPLY_LOCAL.match(local.lower())
    return match.group(1) if match else None


# The operators' notification preferences, declared once: the API, the inbox's settings page
# and the jobs read them from here. `push_previews` is Web Push's: its value lives with the push
# subscriptions (`tx.push`, also `/api/v1/push/preferences`), never in the mail preferences' row.
@dataclass(frozen=True)
class Preference:
    name: str
    default: bool
    doc: str


NOTIFICATION_PREFERENCES = (
    Preference(
        "mail_new_conversation",
        True,
        "a mail when a new conversation stays unanswered while no agent is online",
    ),
    Preference("mail_mentions", True, "a mail when an agent mentions me (@name) in a note"),
    Preference("mail_digest", False, "a daily summary of my websites' conversations"),
    Preference("push_previews", False, "the message's text in pushes to my devices"),
)
PUSH_PREVIEWS = "push_previews"
DIGEST_HOUR = 7  # UTC: the daily digest leaves at this hour


def next_digest_at(now: datetime) -> datetime:
    """The next DIGEST_HOUR:00 UTC after `now`."""
    at = now.replace(hour=DIGEST_HOUR, minute=0, second=0, microsecond=0)
    return at if at > now else at + timedelta(days=1)


_PREFERENCE_NAMES = {p.name for p in NOTIFICATION_PREFERENCES}


def preferences_of(stored: dict[str, Any]) -> dict[str, bool]:
    """Every preference, stored values over defaults (unknown stored names are dropped)."""
    return {
        p.name: bool(stored[p.name]) if isinstance(stored.get(p.name), bool) else p.default
        for p in NOTIFICATION_PREFERENCES
    }


def check_preferences(patch: object) -> dict[str, bool]:
    """A partial change of preferences: known names, booleans."""
    if not isinstance(patch, dict):
        raise Invalid("notification_preferences must be an object", "invalid_preferences")
    for name, value in patch.items():
        if name not in _PREFERENCE_NAMES:
            known = ", ".join(sorted(_PREFERENCE_NAMES))
            raise Invalid(
                f"unknown notification preference {shown(name)} (known: {known})",
                "invalid_preferences",
            )
        if not isinstance(value, bool):
            raise Invalid(
                f"notification preference {shown(name)} must be true or false",
                "invalid_preferences",
            )
    return dict(patch)
