"""Websites: their allowed origins and the settings the chatbox reads."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from causerie.domain.errors import Invalid
from causerie.domain.models import Website

DEFAULT_SETTINGS: dict[str, Any] = {
    "color": "#3b5bdb",
    "position": "right",
    "greeting": "",
    "locale": None,
    "email_prompt": True,
}


def normalize_origin(text: str) -> str:
    """`https://Shop.Example/any/path` -> `https://shop.example`; refuses what is not an origin."""
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid(
            f"{text!r} is not a web origin such as https://shop.example", "invalid_origin"
        )
    default_port = {"http": 80, "https": 443}[parts.scheme]
    try:
        port = parts.port
    except ValueError:
        raise Invalid(f"{text!r} has an invalid port", "invalid_origin") from None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    suffix = f":{port}" if port and port != default_port else ""
    return f"{parts.scheme}://{host}{suffix}"


def allows_origin(website: Website, origin: str | None) -> bool:
    """Browsers always send Origin on cross-origin calls; a call without one is not a browser's
    cross-site request, and is allowed (the token or website id still has to be right)."""
    return origin is None or origin in website.origins


def public_settings(website: Website) -> dict[str, Any]:
    return {**DEFAULT_SETTINGS, **website.settings}
