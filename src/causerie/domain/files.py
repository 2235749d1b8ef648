"""Stored files: their ids, and what a `FileStore` (domain/ports.py) answers (docs/architecture.md,
"Files").

A file id is always made here, by Causerie, when the bytes are stored: 120 random bits written as
24 characters of `[a-z2-7]`. No name, path or id from a client ever becomes a storage key, so no
upload can choose where it lands or reach another file, and `check_file_id` refuses anything else
before a store touches its disk or bucket.
"""

from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from causerie.domain.errors import Invalid, NotFound, Unavailable
from causerie.domain.models import Attachment

# The largest chunk a store yields when it streams a file out: small enough that serving many
# files at once holds little memory, large enough that each chunk is one cheap read.
CHUNK_SIZE = 256 * 1024

_FILE_ID = re.compile(r"[a-z2-7]{24}")


@dataclass(frozen=True)
class StoredFile:
    """What a store kept: the id it made, the size in bytes and the SHA-256 of the content."""

    id: str
    size: int
    sha256: str


class FileMissing(NotFound):
    """No file has this id (never stored, or deleted)."""

    code = "file_not_found"


class InvalidFileId(Invalid):
    """The id is not one Causerie makes: refused before any storage is touched."""

    code = "invalid_file_id"


class FilesUnavailable(Unavailable):
    """The storage did not answer, or refused Causerie's credentials: not the client's fault."""


def new_file_id() -> str:
    return base64.b32encode(secrets.token_bytes(15)).decode("ascii").lower()


def is_file_id(text: str) -> bool:
    return _FILE_ID.fullmatch(text) is not None


def check_file_id(file_id: str) -> str:
    """`file_id`, if Causerie could have made it; else `InvalidFileId` (`../x`, `a/b`, ...)."""
    if not isinstance(file_id, str) or not is_file_id(file_id):
        raise InvalidFileId("not a file id")
    return file_id


@dataclass(frozen=True)
class FileRecord:
    """A file of the chat as the database holds it: the message it belongs to (None once the
    message is gone: its bytes are about to be deleted), what the client called it, what it is,
    and the store's keys of its bytes (None once it expired)."""

    id: str
    message_id: str | None
    name: str
    size: int
    content_type: str
    store_key: str | None
    thumbnail_key: str | None
    created_at: datetime
    expired_at: datetime | None = None


@dataclass(frozen=True)
class PlacedFile:
    """A file with the conversation it is in: who may read it follows from there."""

    record: FileRecord
    conversation_id: str
    website_id: str
    session_id: str
    message_type: str


def attachment_of(record: FileRecord) -> Attachment:
    """What a message shows of its file."""
    return Attachment(
        id=record.id,
        name=record.name,
        size=record.size,
        content_type=record.content_type,
        has_thumbnail=record.thumbnail_key is not None,
        expired=record.expired_at is not None,
    )
