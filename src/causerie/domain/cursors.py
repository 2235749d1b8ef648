"""The cursors of paged lists (the inbox's conversations, the audit log): a time and an id,
`TIME|ID` in base64url, then `.` and a MAC of it under the server's secret key and the list's
name, read back as what the API gave or refused as `invalid_cursor`.

A client may send any text: a time at an offset that runs off the calendar once taken to UTC
(`9999-12-31T23:59:59-05:00`) was a 500, and an id with a NUL reached the database. A cursor
cut short, or made up in the same form, was read as a place in the list: the MAC refuses any
cursor this server did not give for that list (every node shares the key).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from datetime import UTC, datetime

from causerie.domain.errors import Invalid

_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _mac(secret_key: str, list_name: str, text: str) -> str:
    message = f"cursor:{list_name}:{text}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()[:32]


def encode_cursor(secret_key: str, list_name: str, at: datetime, object_id: str) -> str:
    """The cursor of the place after (`at`, `object_id`) in the list `list_name`."""
    text = base64.urlsafe_b64encode(f"{at.isoformat()}|{object_id}".encode()).decode()
    text = text.rstrip("=")
    return f"{text}.{_mac(secret_key, list_name, text)}"


def decode_cursor(secret_key: str, list_name: str, cursor: str) -> tuple[datetime, str]:
    """The time (in UTC) and the id a cursor of `list_name` holds; raises `Invalid` for
    anything else."""
    refused = Invalid("cursor: not a cursor this API gave", "invalid_cursor")
    text, _, mac = cursor.rpartition(".")
    if not hmac.compare_digest(mac.encode(), _mac(secret_key, list_name, text).encode()):
        raise refused
    try:
        plain = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        at, _, object_id = plain.partition("|")
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is None or not _ID.fullmatch(object_id):
            raise ValueError(plain)
        return moment.astimezone(UTC), object_id
    except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError):
        raise refused from None
