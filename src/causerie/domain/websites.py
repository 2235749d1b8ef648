"""Websites: their allowed origins and the settings the chatbox reads."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from causerie.domain.errors import Invalid
from causerie.domain.models import Website

NAME_MAX = 100
"""The longest website name, in characters: the command line, the API and the inbox's form."""

DEFAULT_SETTINGS: dict[str, Any] = {
    "color": "#3b5bdb",
    "position": "right",
    "greeting": "",
    "locale": None,
    "email_prompt": True,
    "consent_required": False,
    "consent_notice": "",
    "consent_version": 0,
    "retention": {},
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


def check_settings(
    current: dict[str, Any], changes: dict[str, Any], limits: Mapping[str, timedelta | None]
) -> dict[str, Any]:
    """The stored settings with `changes` applied, each checked; unknown keys are refused.

    `limits`: the server's retention per rule a website may shorten (None: kept forever).
    Changing the consent notice, or starting to require consent, makes a new notice version:
    visitors accept each version anew (P9).
    """
    merged = dict(current)
    for key, value in changes.items():
        checker = _CHECKS.get(key)
        if checker is None:
            raise Invalid(f"settings.{key}: not a website setting", "invalid_settings")
        if key == "retention":
            # Rule by rule: a rule not named keeps its value; a rule set to null (or the whole
            # object set to null) goes back to the server's setting.
            if value is None:
                merged[key] = {}
            elif not isinstance(value, dict):
                raise _fail("retention: an object of days per rule")
            else:
                merged[key] = checker({**(current.get("retention") or {}), **value}, limits)
        else:
            merged[key] = checker(value)
    notice_changed = merged.get("consent_notice") != current.get("consent_notice")
    now_required = merged.get("consent_required") and not current.get("consent_required")
    if merged.get("consent_required") and (notice_changed or now_required):
        merged["consent_version"] = int(current.get("consent_version") or 0) + 1
    return merged


def _fail(message: str) -> Invalid:
    return Invalid(f"settings.{message}", "invalid_settings")


def _color(value: Any) -> str:
    if not isinstance(value, str) or not _COLOR.match(value):
        raise _fail("color: a colour such as #3b5bdb")
    return value.lower()


def _position(value: Any) -> str:
    if value not in ("left", "right"):
        raise _fail("position: left or right")
    return str(value)


def _text(name: str, limit: int) -> Any:
    def check(value: Any) -> str:
        if not isinstance(value, str) or len(value) > limit:
            raise _fail(f"{name}: text of at most {limit} characters")
        return value.strip()

    return check


def _locale(value: Any) -> str | None:
    if value is not None and value not in LOCALES:
        raise _fail("locale: en, fr or null (the visitor's)")
    return value  # type: ignore[no-any-return]


def _flag(name: str) -> Any:
    def check(value: Any) -> bool:
        if not isinstance(value, bool):
            raise _fail(f"{name}: true or false")
        return value

    return check


def _retention(value: Any, limits: Mapping[str, timedelta | None]) -> dict[str, int]:
    if not isinstance(value, dict):
        raise _fail("retention: an object of days per rule")
    kept = {}
    for rule, days in value.items():
        if rule not in limits:
            raise _fail(f"retention.{rule}: one of {', '.join(sorted(limits))}")
        if days is None:
            continue
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 36500:
            raise _fail(f"retention.{rule}: a number of days from 1 to 36500, or null")
        limit = limits[rule]
        if limit is not None and timedelta(days=days) > limit:
            raise _fail(
                f"retention.{rule}: at most {limit.days} days, the server's setting "
                "(a website may shorten a retention, never lengthen it)"
            )
        kept[rule] = days
    return kept


_CHECKS: dict[str, Any] = {
    "color": _color,
    "position": _position,
    "greeting": _text("greeting", 500),
    "locale": _locale,
    "email_prompt": _flag("email_prompt"),
    "consent_required": _flag("consent_required"),
    "consent_notice": _text("consent_notice", 4000),
    "retention": _retention,
}


def snippet(website_id: str, public_url: str) -> str:
    """The embed code a website owner pastes into their pages (SPEC.md "The chatbox")."""
    return (
        f'<script>window.CAUSERIE_WEBSITE_ID = "{website_id}";</script>\n'
        f'<script src="{public_url}/widget.js" async></script>'
    )


def public_settings(website: Website) -> dict[str, Any]:
    return {**DEFAULT_SETTINGS, **website.settings}
