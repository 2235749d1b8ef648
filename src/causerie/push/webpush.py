"""`WebPushSender`: pushes encrypted with pywebpush (RFC 8291 aes128gcm), signed with a VAPID key
(RFC 8292, py_vapid) and posted with aiohttp. See docs/notifications.md, "Push".

The VAPID key pair is derived from the installation's secret key (CAUSERIE_SECRET_KEY, generated
on first run and kept in the data folder): made once per installation, the same on every node that
shares the secret, and never written anywhere else. Changing the secret key changes it, and
browsers then subscribe again (the inbox compares the key its subscription was made with).

cryptography, py_vapid, pywebpush and aiohttp (about 40 MiB together) are imported at first use:
a server whose inbox never asks for the key or sends a push does without them
(docs/performance.md, "Lighter at rest").
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import time
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, urlsplit

from causerie.domain.push import PushOutcome, PushSubscription
from causerie.domain.targets import why_refused
from causerie.lazy_imports import import_off_loop

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ec
    from py_vapid import Vapid02

# The order of the P-256 group: a private key is a scalar in [1, n - 1].
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
SEND_TIMEOUT = 10.0  # seconds a push service has to answer
CLAIMS_LIFETIME = 12 * 3600  # seconds a VAPID signature is valid (RFC 8292 allows 24 h)


def vapid_private_key(secret_key: str) -> ec.EllipticCurvePrivateKey:
    """This installation's VAPID key: a P-256 scalar derived from the secret key."""
    from cryptography.hazmat.primitives.asymmetric import ec

    digest = hmac.new(secret_key.encode("utf-8"), b"causerie:vapid:v1", hashlib.sha512).digest()
    scalar = int.from_bytes(digest, "big") % (_P256_ORDER - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _public_address(host: str) -> bool:
    """The rule of webhooks' deliveries (outbound/guard.py): IPv4-mapped, NAT64 and 6to4
    addresses judged as the IPv4 address they carry."""
    return why_refused(ipaddress.ip_address(host.split("%", 1)[0])) is None


class _Vapid:
    """The signer and the public key (as browsers take it) of a VAPID private key."""

    def __init__(self, key: ec.EllipticCurvePrivateKey) -> None:
        from cryptography.hazmat.primitives import serialization
        from py_vapid import Vapid02

        self.signer: Vapid02 = Vapid02(private_key=key, conf={"no-strict": True})
        self.public_key = b64url(
            key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )


class WebPushSender:
    def __init__(self, secret_key: str, *, contact: str, allow_private: bool) -> None:
        self._secret_key = secret_key
        self._vapid: _Vapid | None = None  # at first use
        self._contact = contact
        self._allow_private = allow_private

    def _keys(self) -> _Vapid:
        if self._vapid is None:
            self._vapid = _Vapid(vapid_private_key(self._secret_key))
        return self._vapid

    @property
    def public_key(self) -> str:
        return self._keys().public_key

    async def send(self, subscription: PushSubscription, payload: bytes, ttl: int) -> PushOutcome:
        await import_off_loop("aiohttp", "pywebpush")  # once; a few hundred ms of imports
        import aiohttp
        from pywebpush import WebPusher

        parts = urlsplit(subscription.endpoint)
        if not self._allow_private and not await self._resolves_publicly(parts):
            return PushOutcome(0, "the endpoint is not a public address", refused=True)
        body = WebPusher(
            {
                "endpoint": subscription.endpoint,
                "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
            }
        ).encode(payload, "aes128gcm")["body"]
        claims = {
            "aud": f"{parts.scheme}://{parts.netloc}",
            "exp": int(time.time()) + CLAIMS_LIFETIME,
            "sub": self._contact,
        }
        headers = {
            **self._keys().signer.sign(claims),
            "TTL": str(ttl),
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "Urgency": "high",
        }
        timeout = aiohttp.ClientTimeout(total=SEND_TIMEOUT)
        async with (
            aiohttp.ClientSession(timeout=timeout) as client,
            client.post(
                subscription.endpoint, data=body, headers=headers, allow_redirects=False
            ) as response,
        ):
            return PushOutcome(response.status, response.reason or "")

    async def _resolves_publicly(self, parts: SplitResult) -> bool:
        """Every address the endpoint's host resolves to is a public one (no loopback, private,
        link-local or metadata address: a subscription is text an operator's browser sends).
        A name that does not resolve raises: the job retries."""
        infos = await asyncio.get_running_loop().getaddrinfo(
            parts.hostname or "", parts.port or 443
        )
        return bool(infos) and all(_public_address(str(info[4][0])) for info in infos)
