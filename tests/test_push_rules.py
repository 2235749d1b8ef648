"""Web Push's rules that need no server (docs/notifications.md, "Push"): what a subscription
must be to be stored, the installation's VAPID key, the device labels an operator sees."""

from __future__ import annotations

import base64

import pytest

from causerie.domain.errors import Invalid
from causerie.domain.push import check_subscription, device_label
from causerie.push.webpush import WebPushSender
from tests.test_push import FIREFOX, Browser, b64

BAD = [
    ("ftp://push.example/x", None, None),
    ("http://push.example/x", None, None),  # plain http only where private targets are allowed
    ("https://user:pw@push.example/x", None, None),
    ("https://push.example/" + "x" * 2000, None, None),
    # Hosts told private without DNS: the server must not be made to post inside its network.
    ("https://127.0.0.1/x", None, None),
    ("https://[::1]/x", None, None),
    ("https://2130706433/x", None, None),
    ("https://metadata.google.internal/x", None, None),
    ("https://push.localhost/x", None, None),
    ("https://intranet/x", None, None),
    (None, "not-base64!", None),
    (None, b64(b"\x04" + b"1" * 10), None),
    (None, None, b64(b"short")),
]


def test_a_bad_subscription_is_refused_naming_the_field() -> None:
    browser = Browser()
    for endpoint, p256dh, auth in BAD:
        with pytest.raises(Invalid) as refused:
            check_subscription(
                endpoint or "https://push.example/x",
                p256dh or browser.p256dh,
                auth or b64(browser.auth),
                allow_private=False,
            )
        assert refused.value.code == "invalid_subscription"
        field_name = "endpoint" if endpoint else "keys.p256dh" if p256dh else "keys.auth"
        assert refused.value.message.startswith(field_name), (endpoint, p256dh, auth)
    assert check_subscription(
        "http://127.0.0.1/x", browser.p256dh, b64(browser.auth), allow_private=True
    )


def test_the_vapid_key_is_made_once_per_installation_and_only_its_public_half_is_served() -> None:
    secret = "a secret key made on the first run, 48 bytes long"
    first = WebPushSender(secret, contact="mailto:a@b.example", allow_private=False)
    again = WebPushSender(secret, contact="mailto:a@b.example", allow_private=False)
    other = WebPushSender(secret + "!", contact="mailto:a@b.example", allow_private=False)
    key = base64.urlsafe_b64decode(first.public_key + "==")
    assert len(key) == 65 and key[0] == 4  # an uncompressed P-256 point
    assert first.public_key == again.public_key != other.public_key


def test_device_labels_name_the_browser_and_system_only() -> None:
    assert device_label(FIREFOX) == "Firefox on Android"
    mac = (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 "
        "Version/17.5 Safari/605.1.15"
    )
    assert device_label(mac) == "Safari on macOS"
    assert device_label("") == "Browser"
