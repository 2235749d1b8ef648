"""The cursors of paged lists (the inbox's conversations, the audit log): a time and an id,
`TIME|ID` in base64url, read back as what the API gave or refused as `invalid_cursor`.

A client may send any text: a time at an offset that runs off the calendar once taken to UTC
(`9999-12-31T23:59:59-05:00`) was a 500, and an id with a NUL reached the database.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime

from causerie.domain.errors import Invalid

_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The time (in UTC) and the id a cursor holds; raises `Invalid` for anything else."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, object_id = text.partition("|")
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is None or not _ID.fullmatch(object_id):
            raise ValueError(text)
        return moment.astimezone(UTC), object_id
    except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError):
        raise Invalid("cursor: not a cursor this API gave", "invalid_cursor") from None
