"""What a file is, judged by its first bytes only: never by its name or by what the client
says (docs/api.md "Files"). A small sniffer of magic numbers, for the types a chat needs to tell
apart: the images shown inline, the documents a website may accept, and the rest.

`kind_of` sorts a type into the categories of the website setting `file_types`: `images`
(PNG, JPEG, GIF, WebP), `documents` (those, PDF, office documents, plain text) or `any`.
"""

from __future__ import annotations

from enum import StrEnum

SNIFF_BYTES = 4096
"""How much of the start of a file the sniffer reads."""

OCTET_STREAM = "application/octet-stream"

IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
"""The only types ever served inline (shown by the chatbox and the inbox)."""

DOCUMENT_TYPES = frozenset(
    {
        "application/pdf",
        "text/plain",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.spreadsheet",
        "application/vnd.oasis.opendocument.presentation",
    }
)


class FileKinds(StrEnum):
    """The website setting `file_types`: which uploads a website accepts."""

    IMAGES = "images"
    DOCUMENTS = "documents"
    ANY = "any"


def allowed(content_type: str, kinds: FileKinds) -> bool:
    if kinds is FileKinds.ANY:
        return True
    if content_type in IMAGE_TYPES:
        return True
    return kinds is FileKinds.DOCUMENTS and content_type in DOCUMENT_TYPES


_PREFIXES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"\x1f\x8b", "application/gzip"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (b"Rar!\x1a\x07", "application/vnd.rar"),
    (b"OggS", "audio/ogg"),
    (b"ID3", "audio/mpeg"),
    (b"\x1a\x45\xdf\xa3", "video/webm"),
    (b"BM", "image/bmp"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"\x00\x00\x01\x00", "image/vnd.microsoft.icon"),
    (b"\x7fELF", "application/x-executable"),
    (b"MZ", "application/x-msdownload"),
)

_OPEN_DOCUMENT = b"mimetypeapplication/vnd.oasis.opendocument."
_OOXML = (
    (b"word/", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (b"xl/", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    (b"ppt/", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
)
# Markup a browser would run or render: never sent as text/plain, so never shown inline.
_MARKUP = (
    (b"<svg", "image/svg+xml"),
    (b"<!doctype html", "text/html"),
    (b"<html", "text/html"),
    (b"<head", "text/html"),
    (b"<body", "text/html"),
    (b"<script", "text/html"),
    (b"<iframe", "text/html"),
    (b"<?xml", "application/xml"),
)
_TEXT_CONTROLS = frozenset(b"\t\n\r\f") | frozenset(range(0x20, 0x100))


def sniff(head: bytes) -> str:
    """The content type of a file that starts with `head` (at least `SNIFF_BYTES` of it, or the
    whole file when shorter); `application/octet-stream` when nothing is recognised."""
    for prefix, content_type in _PREFIXES:
        if head.startswith(prefix):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[4:8] == b"ftyp":
        return "video/mp4"
    if head.startswith(b"PK\x03\x04"):
        return _zip_type(head)
    return _text_type(head)


def _zip_type(head: bytes) -> str:
    if head[30:].startswith(_OPEN_DOCUMENT):
        kind = head[30 + len(_OPEN_DOCUMENT) :].split(b"PK", 1)[0]
        for name in (b"text", b"spreadsheet", b"presentation"):
            if kind.startswith(name):
                return f"application/vnd.oasis.opendocument.{name.decode()}"
    if b"[Content_Types].xml" in head or b"_rels/" in head:
        for marker, content_type in _OOXML:
            if marker in head:
                return content_type
    return "application/zip"


def _text_type(head: bytes) -> str:
    body = head.removeprefix(b"\xef\xbb\xbf")
    if not body or any(byte not in _TEXT_CONTROLS for byte in body):
        return OCTET_STREAM
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the end of the sniffed bytes is still text.
        if exc.start < len(body) - 4:
            return OCTET_STREAM
    lowered = body.lstrip().lower()
    for marker, content_type in _MARKUP:
        if lowered.startswith(marker) or (marker != b"<?xml" and marker in lowered):
            return content_type
    return "text/plain"
