"""Web Push (docs/notifications.md, "Push"): the `PushSender` port over pywebpush's encryption
and py_vapid's signatures, posted with aiohttp (`webpush.py`)."""

from __future__ import annotations

from causerie.domain.ports import PushSender
from causerie.settings import Settings


def open_push_sender(settings: Settings) -> PushSender:
    from causerie.push.webpush import WebPushSender

    return WebPushSender(
        settings.secret_key,
        contact=settings.push_contact or settings.public_url,
        allow_private=settings.push_allow_private,
    )
