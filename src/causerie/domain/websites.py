"""Websites: their allowed origins and the settings the chatbox reads."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import idna

from causerie.domain.errors import Invalid, shown
from causerie.domain.hours import check_hours
from causerie.domain.models import Website

NAME_MAX = 100
"""The longest website name, in characters: the command line, the API and the inbox's form."""

LOCALES = ("en", "fr")
RETENTION_DAYS_MAX = 36500
AUTO_RESOLVE_MINUTES_MAX = 43200  # 30 days
"""The longest retention a website may set for a rule, in days (and never more than the
server's own setting)."""


@dataclass(frozen=True)
class Setting:
    """One chatbox setting a website changes: its JSON type, default and limits.

    `SETTINGS` is the one list: `check_settings` checks each change against it, and the API's
    request model (`web/api_models` `SettingsPatch`) is built from it. `hint` ends the error
    message of a refused value (for free text: its `max_length`).
    """

    name: str
    type: type[str] | type[bool]
    default: str | bool | None
    hint: str = ""
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    nullable: bool = False
    pattern: str | None = None  # checked here only: the API model keeps `max_length`
    lower: bool = False  # stored lower-cased; other text is stored stripped


SETTINGS = (
    Setting(
        "color",
        str,
        "#3b5bdb",
        "a colour such as #3b5bdb",
        max_length=7,
        pattern=r"^#[0-9a-fA-F]{6}$",
        lower=True,
    ),
    Setting("position", str, "right", "left or right", choices=("left", "right")),
    Setting("greeting", str, "", max_length=500),
    Setting("locale", str, None, "en, fr or null (the visitor's)", choices=LOCALES, nullable=True),
    Setting("email_prompt", bool, True, "true or false"),
    Setting("consent_required", bool, False, "true or false"),
    Setting("consent_notice", str, "", max_length=4000),
    Setting(
        "file_types",
        str,
        "documents",
        "images, documents or any",
        choices=("images", "documents", "any"),
    ),
)
"""The settings a website sets one by one; `retention` (days per rule of `WEBSITE_RULES`, at
most `RETENTION_DAYS_MAX`), `consent_version` (counted here), `business_hours` (domain/hours.py)
and `auto_resolve_minutes` (1 to `AUTO_RESOLVE_MINUTES_MAX`, or null: never) complete the stored
settings."""

DEFAULT_SETTINGS: dict[str, Any] = {
    **{setting.name: setting.default for setting in SETTINGS},
    "consent_version": 0,
    "retention": {},
    "business_hours": None,
    "auto_resolve_minutes": None,
}


def normalize_origin(text: str) -> str:
    """`https://Shop.Example/any/path` -> `https://shop.example`, as a browser's `Origin`
    header writes it (a name in other scripts in its ASCII form: `https://bücher.example` ->
    `https://xn--bcher-kva.example`); refuses what is not an origin, or no browser could send:
    a host that is no name nor address (`*.example`, `a.example,https`), a user name or
    password, port 0."""
    try:
        parts = urlsplit(text.strip())
    except ValueError:  # `https://[zz]`, `https://[::1`: brackets holding no IPv6 address
        parts = urlsplit("")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid(
            f"{shown(text)} is not a web origin such as https://shop.example", "invalid_origin"
        )
    if parts.username is not None or parts.password is not None:
        raise Invalid(
            f"{shown(text)} holds a user name or password: no origin does", "invalid_origin"
        )
    default_port = {"http": 80, "https": 443}[parts.scheme]
    try:
        port = parts.port
    except ValueError:
        raise Invalid(f"{shown(text)} has an invalid port", "invalid_origin") from None
    if port == 0:
        raise Invalid(f"{shown(text)} has an invalid port", "invalid_origin")
    host = _origin_host(text, parts.hostname)
    suffix = f":{port}" if port and port != default_port else ""
    return f"{parts.scheme}://{host}{suffix}"


_HOST_NAME = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)(\.(?!-)[a-z0-9_-]{1,63}(?<!-))*\.?")


def _origin_host(text: str, hostname: str) -> str:
    """The host as a browser's `Origin` writes it: an IP address, or a name in ASCII."""
    try:
        address = ipaddress.ip_address(hostname)
    except ValueError:
        pass
    else:
        return f"[{address.compressed}]" if address.version == 6 else address.compressed
    try:
        name = (
            idna.encode(hostname, uts46=True).decode("ascii")
            if not hostname.isascii()
            else hostname
        )
    except idna.IDNAError:
        name = ""
    name = name.lower()
    if len(name) > 253 or not _HOST_NAME.fullmatch(name):
        raise Invalid(
            f"{shown(text)} is not a web origin such as https://shop.example (its host is no name "
            "nor address)",
            "invalid_origin",
        )
    return name


def allows_origin(website: Website, origin: str | None) -> bool:
    """Browsers always send Origin on cross-origin calls; a call without one is not a browser's
    cross-site request, and is allowed (the token or website id still has to be right)."""
    return origin is None or origin in website.origins


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
        if key == "retention":
            # Rule by rule: a rule not named keeps its value; a rule set to null (or the whole
            # object set to null) goes back to the server's setting.
            if value is None:
                merged[key] = {}
            elif not isinstance(value, dict):
                raise _fail("retention: an object of days per rule")
            else:
                merged[key] = _retention({**(current.get("retention") or {}), **value}, limits)
        elif key == "business_hours":
            merged[key] = check_hours(value)
        elif key == "auto_resolve_minutes":
            if value is not None and (
                isinstance(value, bool)
                or not isinstance(value, int)
                or not 1 <= value <= AUTO_RESOLVE_MINUTES_MAX
            ):
                raise _fail(
                    f"auto_resolve_minutes: minutes from 1 to {AUTO_RESOLVE_MINUTES_MAX}, or null"
                )
            merged[key] = value
        elif key in _BY_NAME:
            merged[key] = _check(_BY_NAME[key], value)
        else:
            raise Invalid(f"settings.{key}: not a website setting", "invalid_settings")
    notice_changed = merged.get("consent_notice") != current.get("consent_notice")
    now_required = merged.get("consent_required") and not current.get("consent_required")
    if merged.get("consent_required") and (notice_changed or now_required):
        merged["consent_version"] = int(current.get("consent_version") or 0) + 1
    return merged


def _fail(message: str) -> Invalid:
    return Invalid(f"settings.{message}", "invalid_settings")


def _check(setting: Setting, value: Any) -> Any:
    if value is None and setting.nullable:
        return None
    hint = setting.hint or f"text of at most {setting.max_length} characters"
    if setting.type is bool:
        if not isinstance(value, bool):
            raise _fail(f"{setting.name}: {hint}")
        return value
    if (
        not isinstance(value, str)
        or (setting.max_length is not None and len(value) > setting.max_length)
        or (setting.choices and value not in setting.choices)
        or (setting.pattern is not None and not re.match(setting.pattern, value))
    ):
        raise _fail(f"{setting.name}: {hint}")
    return value.lower() if setting.lower else value.strip()


def _retention(value: Any, limits: Mapping[str, timedelta | None]) -> dict[str, int]:
    if not isinstance(value, dict):
        raise _fail("retention: an object of days per rule")
    kept = {}
    for rule, days in value.items():
        if rule not in limits:
            raise _fail(f"retention.{rule}: one of {', '.join(sorted(limits))}")
        if days is None:
            continue
        if (
            not isinstance(days, int)
            or isinstance(days, bool)
            or not 1 <= days <= RETENTION_DAYS_MAX
        ):
            raise _fail(
                f"retention.{rule}: a number of days from 1 to {RETENTION_DAYS_MAX}, or null"
            )
        limit = limits[rule]
        if limit is not None and timedelta(days=days) > limit:
            raise _fail(
                f"retention.{rule}: at most {limit.days} days, the server's setting "
                "(a website may shorten a retention, never lengthen it)"
            )
        kept[rule] = days
    return kept


_BY_NAME = {setting.name: setting for setting in SETTINGS}


def snippet(website_id: str, public_url: str) -> str:
    """The embed code a website owner pastes into their pages (SPEC.md "The chatbox")."""
    return (
        f'<script>window.CAUSERIE_WEBSITE_ID = "{website_id}";</script>\n'
        f'<script src="{public_url}/widget.js" async></script>'
    )


def public_settings(website: Website) -> dict[str, Any]:
    return {**DEFAULT_SETTINGS, **website.settings}
