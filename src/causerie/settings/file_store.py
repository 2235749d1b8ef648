"""`CAUSERIE_FILE_STORE`: the data folder, or a bucket and prefix of S3 (docs/settings.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from causerie.settings.units import from_text

# S3's rules for bucket names (what S3-compatible servers accept too): 3 to 63 characters.
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_PREFIX = re.compile(r"[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*")


@dataclass(frozen=True)
class S3Location:
    """Where `CAUSERIE_FILE_STORE=s3://bucket/prefix` keeps files: keys `prefix/ID` in `bucket`."""

    bucket: str
    prefix: str

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"


def parse_file_store(text: str) -> S3Location | None:
    """`file` (the data folder: None) or `s3://bucket/prefix`."""
    text = text.strip()
    if text == "file":
        return None
    parts = urlsplit(text)
    if parts.scheme != "s3" or parts.query or parts.fragment or "@" in parts.netloc:
        raise ValueError("expected file (the data folder) or s3://BUCKET/PREFIX")
    if not _BUCKET.fullmatch(parts.netloc) or ".." in parts.netloc:
        raise ValueError(f"{parts.netloc!r} is not an S3 bucket name")
    prefix = parts.path.strip("/")
    if prefix and (not _PREFIX.fullmatch(prefix) or ".." in prefix.split("/")):
        raise ValueError(f"{prefix!r} is not a usable prefix (letters, digits, . _ - and /)")
    return S3Location(bucket=parts.netloc, prefix=prefix)


FileStore = Annotated[S3Location | None, from_text(parse_file_store)]
