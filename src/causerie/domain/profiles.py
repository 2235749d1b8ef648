"""The visitor's profile (P5, P7): optional, given by the visitor or the website, correctable."""

from __future__ import annotations

import json
import re
from typing import Any

from causerie.domain.errors import Invalid, shown
from causerie.domain.texts import name_text

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s.]{1,63}$")
_PHONE = re.compile(r"^\+?[0-9 ().-]+$")
MAX_NICKNAME = 100
MIN_PHONE, MAX_PHONE = 3, 30
MAX_EMAIL = 320
MAX_DATA_KEYS = 50
MAX_DATA_BYTES = 8 * 1024


def check_nickname(value: str | None) -> str | None:
    """A nickname as agents are shown it (`domain.texts.name_text`); None when nothing shows."""
    if value is None:
        return None
    value = name_text(value).strip()
    if not value:
        return None
    if len(value) > MAX_NICKNAME:
        raise Invalid(f"nickname: at most {MAX_NICKNAME} characters", "invalid_nickname")
    return value


def check_email(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if len(value) > MAX_EMAIL or not _EMAIL.match(value):
        raise Invalid(f"email: {shown(value)} is not an email address", "invalid_email")
    return value


def check_phone(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if not MIN_PHONE <= len(value) <= MAX_PHONE:
        raise Invalid(f"phone: {MIN_PHONE} to {MAX_PHONE} characters", "invalid_phone")
    if not _PHONE.match(value):
        raise Invalid("phone: digits, spaces and + ( ) . - only", "invalid_phone")
    return value


def merge_data(current: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """Custom data: flat keys with text, number, boolean or null values; null removes a key."""
    merged = dict(current)
    for key, value in update.items():
        if not isinstance(key, str) or not 1 <= len(key) <= 64:
            raise Invalid("data: keys are 1 to 64 characters", "invalid_data")
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, str | int | float | bool):
            merged[key] = value
        else:
            raise Invalid(f"data.{key}: only text, numbers, true/false or null", "invalid_data")
    if len(merged) > MAX_DATA_KEYS:
        raise Invalid(f"data: at most {MAX_DATA_KEYS} keys", "invalid_data")
    if len(json.dumps(merged)) > MAX_DATA_BYTES:
        raise Invalid(f"data: at most {MAX_DATA_BYTES} bytes", "invalid_data")
    return merged
