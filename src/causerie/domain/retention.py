"""Retention rules (P6, P15, P17, P18): what each rule removes, as cut-off times.

The rules are data so that the purge, its dry run and the docs all read the same list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any


class Rule(StrEnum):
    TEMPORARY_SESSIONS = "temporary_sessions"
    CHAT_IPS = "chat_ips"
    RESOLVED_CONVERSATIONS = "resolved_conversations"
    EXPIRED_LOGINS = "expired_logins"
    EXPIRED_LINKS = "expired_links"
    AUDIT_ENTRIES = "audit_entries"
    FILES = "files"  # the bytes of files (their messages stay, showing them expired)
    WEBHOOK_DELIVERIES = "webhook_deliveries"
    EXPIRED_BLOCKS = "expired_blocks"


# Rules a website may shorten for itself, never lengthen (website settings "retention").
WEBSITE_RULES = (Rule.CHAT_IPS, Rule.RESOLVED_CONVERSATIONS, Rule.FILES)


RULE_DOCS = {
    Rule.TEMPORARY_SESSIONS: "sessions without messages, destroyed with their IP "
    "CAUSERIE_TEMPORARY_SESSION_TTL after their last access (P15, P17)",
    Rule.CHAT_IPS: "raw IP addresses of sessions that chatted, erased "
    "CAUSERIE_CHAT_IP_RETENTION after they were recorded (P18)",
    Rule.RESOLVED_CONVERSATIONS: "resolved conversations idle for "
    "CAUSERIE_CONVERSATION_RETENTION, destroyed with their session (P6)",
    Rule.EXPIRED_LOGINS: "inbox logins unused for CAUSERIE_LOGIN_TTL",
    Rule.EXPIRED_LINKS: "one-time account links past their expiry (1 day to set up, 7 to join)",
    Rule.AUDIT_ENTRIES: "audit entries older than CAUSERIE_AUDIT_RETENTION",
    Rule.FILES: "the files of messages, kept with their conversation unless a website sets "
    "retention.files (days): then deleted that long after they were sent, the message showing "
    "the file as expired (P6)",
    Rule.WEBHOOK_DELIVERIES: "webhook deliveries (the delivery log and the bodies sent) "
    "30 days after their event",
    Rule.EXPIRED_BLOCKS: "block rules past their expiry, with the address or email they held, "
    "and those made by blocking a conversation's visitor once the chat IP retention (as it is "
    "now) has run from when the session recorded the address they copied (P18)",
}

WEBHOOK_LOG_RETENTION = timedelta(days=30)  # domain/webhooks.py LOG_RETENTION


@dataclass(frozen=True)
class Cutoffs:
    """For each rule, the time before which data goes; None when the rule keeps everything."""

    temporary_sessions: datetime
    chat_ips: datetime | None
    resolved_conversations: datetime | None
    expired_logins: datetime
    expired_links: datetime
    audit_entries: datetime | None
    webhook_deliveries: datetime
    expired_blocks: datetime
    files: datetime | None = None  # the server keeps files with their conversation

    def for_rule(self, rule: Rule) -> datetime | None:
        value: datetime | None = getattr(self, rule.value)
        return value


def cutoffs(
    now: datetime,
    *,
    temporary_session_ttl: timedelta,
    chat_ip_retention: timedelta | None,
    conversation_retention: timedelta | None,
    audit_retention: timedelta | None = None,
) -> Cutoffs:
    return Cutoffs(
        temporary_sessions=now - temporary_session_ttl,
        chat_ips=None if chat_ip_retention is None else now - chat_ip_retention,
        resolved_conversations=(
            None if conversation_retention is None else now - conversation_retention
        ),
        expired_logins=now,  # these rows carry their own expiry
        expired_links=now,
        audit_entries=None if audit_retention is None else now - audit_retention,
        webhook_deliveries=now - WEBHOOK_LOG_RETENTION,
        expired_blocks=now,
    )


def effective_retention(
    overrides: dict[str, Any], rule: Rule, server: timedelta | None
) -> timedelta | None:
    """How long a website keeps what `rule` erases: its own days (`retention` in its settings)
    when shorter than the server's `server` (None: forever), else the server's."""
    days = overrides.get(rule.value)
    if isinstance(days, int) and not isinstance(days, bool) and days > 0:
        own = timedelta(days=days)
        return own if server is None or own < server else server
    return server


def website_cutoffs(
    now: datetime, overrides: dict[str, Any], server: Cutoffs
) -> dict[Rule, datetime]:
    """The cut-offs a website's own shorter retention sets (days per rule), where they are
    stricter than the server's; a website can never keep data longer than the server allows."""
    found = {}
    for rule in WEBSITE_RULES:
        days = overrides.get(rule.value)
        if not isinstance(days, int) or isinstance(days, bool) or days <= 0:
            continue
        cutoff = now - timedelta(days=days)
        limit = server.for_rule(rule)
        if limit is None or cutoff > limit:
            found[rule] = cutoff
    return found
