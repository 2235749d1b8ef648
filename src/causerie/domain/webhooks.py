"""Webhooks (docs/api.md, "Webhooks"): the events a website's endpoints may subscribe to, how a
delivery is signed (the Standard Webhooks specification), when it is tried again, and when an
endpoint that keeps failing is disabled.

A delivery's body is built once, when the event happens, and sent as is on every attempt under
the same `webhook-id`: a receiver that already handled that id can tell a retry from a new event.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class WebhookEvent(StrEnum):
    """The catalogue. The payloads are the agents' WebSocket events' (domain/events.py), without
    `seq`; the last two carry ids only, never personal data, so that recipients erase too."""

    MESSAGE_CREATED = "message.created"
    CONVERSATION_CREATED = "conversation.created"
    CONVERSATION_UPDATED = "conversation.updated"
    CONVERSATION_RESOLVED = "conversation.resolved"
    CONVERSATION_RATED = "conversation.rated"
    CONVERSATION_DELETED = "conversation.deleted"
    SESSION_ERASED = "session.erased"


# Sent even to a webhook that did not subscribe to them: what it was sent about is gone (P9, P20).
ERASURES = frozenset({WebhookEvent.CONVERSATION_DELETED, WebhookEvent.SESSION_ERASED})

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
SECRET_BYTES = 32
ID_PREFIX = "msg_"
MAX_URL = 2000
MAX_WEBHOOKS_PER_WEBSITE = 20
ROTATION_OVERLAP = timedelta(hours=24)  # the old secret signs beside the new one this long
RETRY_WINDOW = timedelta(hours=24)  # a delivery is tried again for this long after its event
DISABLE_AFTER = timedelta(hours=24)  # an endpoint failing every delivery this long is disabled
RETRY_FIRST = timedelta(seconds=10)
RETRY_LONGEST = timedelta(hours=3)
ANSWER_HEAD = 256  # characters of the receiver's answer kept in the delivery log


class DeliveryState(StrEnum):
    PENDING = "pending"  # waiting for its next attempt
    DELIVERED = "delivered"  # a 2xx came back
    FAILED = "failed"  # given up (the retry window passed, or the webhook was disabled)


@dataclass(frozen=True)
class Webhook:
    id: str
    website_id: str
    url: str
    events: tuple[str, ...]
    secret: str
    created_at: datetime
    enabled: bool = True
    previous_secret: str | None = None  # still signs until `previous_until` (rotation)
    previous_until: datetime | None = None
    failing_since: datetime | None = None  # the first failure after the last success
    disabled_at: datetime | None = None

    def wants(self, event: str) -> bool:
        return self.enabled and (event in self.events or event in ERASURES)

    def signing_secrets(self, now: datetime) -> list[str]:
        """The current secret, and during a rotation's overlap the previous one."""
        if self.previous_secret and self.previous_until and now < self.previous_until:
            return [self.secret, self.previous_secret]
        return [self.secret]


@dataclass(frozen=True)
class Delivery:
    """One event for one webhook, and the record of its attempts (the delivery log)."""

    id: str  # the `webhook-id` header, the same on every attempt
    webhook_id: str
    event_type: str
    body: str  # the exact JSON sent
    created_at: datetime
    session_id: str | None = None  # the person it is about: goes with them (P9, P20)
    state: DeliveryState = DeliveryState.PENDING
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_attempt_at: datetime | None = None
    status_code: int | None = None
    latency_ms: int | None = None
    error: str | None = None
    answer_head: str | None = None


@dataclass(frozen=True)
class Answer:
    """What a receiver answered to one attempt."""

    status_code: int
    latency_ms: int
    head: str  # the first ANSWER_HEAD characters of its body

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300


class DeliveryRefused(Exception):
    """The target may not be sent to (its address is private, its scheme is not allowed):
    nothing was sent. The message says why."""


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error as exc:
        raise ValueError("a webhook secret is 'whsec_' and base64") from exc


def sign(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    """`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed by the secret's bytes."""
    signed = f"{msg_id}.{timestamp}.{body}".encode()
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets_: list[str], msg_id: str, timestamp: int, body: str) -> str:
    """The `webhook-signature` value: one signature per secret, space-separated."""
    return " ".join(sign(secret, msg_id, timestamp, body) for secret in secrets_)


def headers(secrets_: list[str], msg_id: str, timestamp: int, body: str) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets_, msg_id, timestamp, body),
    }


def retry_delay(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: 10 s, doubling, at most 3 hours."""
    doublings = min(max(attempts - 1, 0), 20)
    return min(RETRY_FIRST * (1 << doublings), RETRY_LONGEST)


def next_attempt(created_at: datetime, attempts: int, now: datetime) -> datetime | None:
    """When to try again after a failed attempt, or None: the retry window is over. The last
    attempt falls at the window's end."""
    end = created_at + RETRY_WINDOW
    if now >= end:
        return None
    return min(now + retry_delay(attempts), end)


def should_disable(webhook: Webhook, now: datetime) -> bool:
    """A webhook whose every delivery has failed for DISABLE_AFTER is disabled."""
    return webhook.failing_since is not None and now - webhook.failing_since >= DISABLE_AFTER
