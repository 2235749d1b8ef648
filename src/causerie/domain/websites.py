"""Websites: their allowed origins and the settings the chatbox reads."""

from __future__ import annotations

import re
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


_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
LOCALES = ("en", "fr")


def check_settings(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """The stored settings with `changes` applied, each checked; unknown keys are refused."""
    merged = dict(current)
    for key, value in changes.items():
        if key == "color":
            if not isinstance(value, str) or not _COLOR.match(value):
                raise Invalid("settings.color: a colour such as #3b5bdb", "invalid_settings")
            value = value.lower()
        elif key == "position":
            if value not in ("left", "right"):
                raise Invalid("settings.position: left or right", "invalid_settings")
        elif key == "greeting":
            if not isinstance(value, str) or len(value) > 500:
                raise Invalid(
                    "settings.greeting: text of at most 500 characters", "invalid_settings"
                )
            value = value.strip()
        elif key == "locale":
            if value is not None and value not in LOCALES:
                raise Invalid("settings.locale: en, fr or null (the visitor's)", "invalid_settings")
        elif key == "email_prompt":
            if not isinstance(value, bool):
                raise Invalid("settings.email_prompt: true or false", "invalid_settings")
        else:
            raise Invalid(f"settings.{key}: not a website setting", "invalid_settings")
        merged[key] = value
    return merged


def snippet(website_id: str, public_url: str) -> str:
    """The embed code a website owner pastes into their pages (SPEC.md "The chatbox")."""
    return (
        f'<script>window.CAUSERIE_WEBSITE_ID = "{website_id}";</script>\n'
        f'<script src="{public_url}/widget.js" async></script>'
    )


def public_settings(website: Website) -> dict[str, Any]:
    return {**DEFAULT_SETTINGS, **website.settings}
