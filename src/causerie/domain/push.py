"""Web Push to agents' devices (docs/notifications.md, "Push"): a subscription is one browser of
one operator, what a push says, and the rule that keeps message text out of it unless the
operator chose previews."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from causerie.domain.errors import Invalid
from causerie.domain.targets import why_host_refused, why_url_malformed

ENDPOINT_MAX = 2000  # characters of a push service's URL
DEVICE_MAX = 100  # characters of the label an operator sees in their list of devices
PREVIEW_MAX = 140  # characters of a message shown in a notification, with previews on
PUSH_TTL = 24 * 3600  # seconds a push service keeps a push for a device that is offline
SUBSCRIPTIONS_MAX = 20  # devices per operator; the oldest goes when a new one comes


class PushReason(StrEnum):
    NEW_CONVERSATION = "conversation.new"  # a visitor started one while no agent was online
    VISITOR_MESSAGE = "message.new"  # a visitor wrote in a conversation assigned to the agent


@dataclass(frozen=True)
class PushSubscription:
    """One browser of one operator, as its push service identifies it (RFC 8030, RFC 8291)."""

    id: str
    operator_id: str
    endpoint: str  # the push service's URL for this browser: who it is sent to (P11)
    p256dh: str  # the browser's public key (base64url, uncompressed P-256 point)
    auth: str  # the browser's authentication secret (base64url, 16 bytes)
    device: str  # a label from the browser's User-Agent ("Firefox on Android")
    created_at: datetime
    # The credential the browser subscribed with: pushes go to it while that login lasts (or
    # that API token is not revoked), and it goes with them. Both None: stored before the
    # subscription was bound to a credential (migration 0021).
    login_id: str | None = None
    token_id: str | None = None


@dataclass(frozen=True)
class PushOutcome:
    """What the push service answered: `status` 201 (or any 2xx) delivered; 404 or 410: the
    subscription is gone for good (RFC 8030 8.3); anything else is worth a retry."""

    status: int
    reason: str = ""
    refused: bool = False  # never sent: the endpoint is an address the settings refuse

    @property
    def delivered(self) -> bool:
        return 200 <= self.status < 300

    @property
    def gone(self) -> bool:
        """The subscription will never work again: it is dropped."""
        return self.refused or self.status in (404, 410)


def _b64(value: str, name: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise Invalid(f"keys.{name}: not base64url", "invalid_subscription") from None


# P-256 (FIPS 186-4, D.1.2.3): y^2 = x^3 - 3x + B over the prime field of P256_PRIME.
P256_PRIME = 2**256 - 2**224 + 2**192 + 2**96 - 1
P256_B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B


def _on_p256(point: bytes) -> bool:
    """Whether an uncompressed point (0x04, x, y) lies on P-256: a key of 65 bytes that does not
    would make every push to its browser fail at the encryption."""
    x, y = int.from_bytes(point[1:33]), int.from_bytes(point[33:65])
    p = P256_PRIME
    return x < p and y < p and (y * y - (x * x * x - 3 * x + P256_B)) % p == 0


def check_subscription(
    endpoint: str, p256dh: str, auth: str, *, allow_private: bool
) -> tuple[str, str, str]:
    """A browser's PushSubscription, checked: an https endpoint (plain http only where private
    targets are allowed, for tests and private networks), a P-256 public key and a 16-byte
    secret. Returns the three values, normalised."""
    endpoint = endpoint.strip()
    parts = urlsplit(endpoint)
    schemes = ("https", "http") if allow_private else ("https",)
    if len(endpoint) > ENDPOINT_MAX or parts.scheme not in schemes or not parts.hostname:
        raise Invalid(
            "endpoint: the https URL of the browser's push service", "invalid_subscription"
        )
    if parts.username or parts.password:
        raise Invalid("endpoint: no credentials in the URL", "invalid_subscription")
    malformed = why_url_malformed(endpoint, parts.hostname)
    if malformed is not None:
        raise Invalid(f"endpoint: {malformed}", "invalid_subscription")
    # What needs no DNS is refused now, as a webhook's URL is; the addresses a name resolves to
    # are checked at each push (push/webpush.py).
    reason = None if allow_private else why_host_refused(parts.hostname)
    if reason is not None:
        raise Invalid(
            f"endpoint: {reason}, not a push service (set CAUSERIE_PUSH_ALLOW_PRIVATE=true to "
            "allow private targets)",
            "invalid_subscription",
        )
    if ":" in parts.hostname:  # py_vapid signs for `https://HOST[:PORT]` with no brackets
        raise Invalid(
            "endpoint: an IPv6 address cannot be signed for (VAPID); push services are named "
            "by a host name",
            "invalid_subscription",
        )
    key = _b64(p256dh.strip(), "p256dh")
    if len(key) != 65 or key[0] != 4 or not _on_p256(key):
        raise Invalid("keys.p256dh: an uncompressed P-256 public key", "invalid_subscription")
    if len(_b64(auth.strip(), "auth")) != 16:
        raise Invalid("keys.auth: 16 bytes, base64url", "invalid_subscription")
    return endpoint, p256dh.strip().rstrip("="), auth.strip().rstrip("=")


def device_label(user_agent: str) -> str:
    """A short name for a browser ("Firefox on Android"), so an operator can tell their devices
    apart; never the whole User-Agent."""
    ua = user_agent or ""
    browser = next(
        (
            name
            for token, name in (
                ("Edg/", "Edge"),
                ("OPR/", "Opera"),
                ("Firefox/", "Firefox"),
                ("Chrome/", "Chrome"),
                ("Chromium/", "Chromium"),
                ("Safari/", "Safari"),
            )
            if token in ua
        ),
        "Browser",
    )
    system = next(
        (
            name
            for token, name in (
                ("Android", "Android"),
                ("iPhone", "iOS"),
                ("iPad", "iPadOS"),
                ("Windows", "Windows"),
                ("Mac OS X", "macOS"),
                ("CrOS", "ChromeOS"),
                ("Linux", "Linux"),
            )
            if token in ua
        ),
        None,
    )
    label = f"{browser} on {system}" if system else browser
    return label[:DEVICE_MAX]


def push_payload(
    reason: PushReason,
    *,
    website_id: str,
    website_name: str,
    conversation_id: str,
    preview: str | None,
) -> dict[str, Any]:
    """What a push carries to the service worker (`app/sw.js`). `preview` is the message's text
    and is given only when the operator chose previews; without it, nothing in the push comes
    from the visitor: no text, no name, no email."""
    title = "New conversation" if reason is PushReason.NEW_CONVERSATION else "New message"
    body = (
        preview[:PREVIEW_MAX]
        if preview is not None
        else f"A visitor wrote on {website_name}. Open the inbox to read it."
    )
    return {
        "type": reason.value,
        "website_id": website_id,
        "conversation_id": conversation_id,
        "title": f"{title} · {website_name}",
        "body": body,
        "url": f"/app/#/c/{conversation_id}",
    }
