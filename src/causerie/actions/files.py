"""Files in the chat (docs/api.md "Files"): uploads by visitors and agents, stored as messages
of type `file`, and the downloads of those who may read the conversation.

An upload is checked before its body is read (`check_*_upload`: the credential, the send rate,
the website's `file_types`), then judged by its content (`domain/filetypes.py`), never by its
name or the client's header. An upload that carries a `client_id` the conversation has seen is
answered with the message stored then, and its bytes are not stored again (a retry after an
answer lost on the way); one without gets an id of its own, so each is a new message. An image
is decoded and encoded again without its metadata (`causerie.images`, in a worker thread).
Its bytes are stored (`rt.files`) before the message's transaction; if that transaction fails,
they are deleted again, and a sweep finds what a crash left between the two
(`actions/file_deletion.py`).
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import IO

from causerie import images
from causerie.actions import shield
from causerie.actions.access import ANY_ROLE, check_role
from causerie.actions.file_deletion import do_forget_keys
from causerie.actions.limits import check_send_rate, check_upload_rate
from causerie.actions.messages import Sent, check_client_id, do_store_message, sent_again
from causerie.actions.sessions import access_visitor_session
from causerie.domain.errors import Gone, Invalid, NotFound, TooLarge, UnsupportedType, shown
from causerie.domain.files import CHUNK_SIZE, FileRecord, PlacedFile
from causerie.domain.filetypes import IMAGE_TYPES, SNIFF_BYTES, FileKinds, allowed, sniff
from causerie.domain.mail import ReplyAddress
from causerie.domain.models import Actor, Conversation, MessageType, Scope, Website
from causerie.domain.ports import FileReader, Tx
from causerie.domain.texts import UNSAFE_IN_NAME
from causerie.domain.websites import public_settings
from causerie.runtime import Runtime
from causerie.tokens import new_id

NAME_MAX = 255
SPOOL_BYTES = 1024 * 1024  # a cleaned image is kept in memory up to this, then in a temp file
# Control and bidi characters (domain/texts.py): a file's name is shown as a visitor's name is.
_UNSAFE_NAME = UNSAFE_IN_NAME


@dataclass(frozen=True)
class Upload:
    """A file as the transport received it: what the client called it (data, never a path) and
    its bytes in a seekable file (the transport spools them, in memory up to 1 MiB)."""

    name: str
    data: IO[bytes]


@dataclass(frozen=True)
class Download:
    """A file to answer with: its bytes, streamed from the store, and how to present them."""

    name: str
    content_type: str
    size: int
    reader: FileReader
    inline: bool  # PNG, JPEG, GIF, WebP only: anything else is an attachment


def file_kinds(website: Website) -> FileKinds:
    return FileKinds(public_settings(website)["file_types"])


def clean_name(name: str) -> str:
    """The name shown for a file: its last path segment, without control or bidi characters,
    at most `NAME_MAX` characters, cut before its extension so that it keeps it; `file` when
    nothing is left."""
    base = re.split(r"[\\/]", name)[-1]
    base = _UNSAFE_NAME.sub("", base).strip().lstrip(".")
    if len(base) > NAME_MAX:
        stem, dot, extension = base.rpartition(".")
        keep = dot + extension if stem and len(extension) <= 16 else ""
        base = base[: NAME_MAX - len(keep)] + keep
    return base or "file"


# uploads


async def check_visitor_upload(rt: Runtime, *, token: str, origin: str | None) -> FileKinds:
    """Before a visitor's upload is read: the session, its origin, the send rate and the
    shield's upload limits (per session and network, counted in its aggregates, P18); the
    types the website accepts."""
    await check_send_rate(rt, f"visitor:{token}")
    async with rt.store.read() as tx:
        session = await access_visitor_session(rt, tx, token, origin)
        website = await tx.websites.get(session.website_id)
    if website is None:
        raise NotFound("this website no longer exists", "website_not_found")
    await check_upload_rate(rt, session.id, session.ip)
    shield.count_upload(rt, session.ip)
    return file_kinds(website)


async def do_upload_visitor_file(
    rt: Runtime,
    *,
    token: str,
    origin: str | None,
    upload: Upload,
    kinds: FileKinds,
    client_id: str | None = None,
) -> Sent:
    """Store the visitor's file and its message (P15: the session becomes permanent)."""
    if client_id is not None:
        check_client_id(client_id)
        async with rt.store.read() as tx:
            session = await access_visitor_session(rt, tx, token, origin)
            conversation = await tx.conversations.get_by_session(session.id)
            if (sent := await _sent_before(tx, conversation, client_id, None)) is not None:
                return sent
    record = await _keep(rt, upload, kinds)
    try:
        async with rt.store.transaction() as tx:
            session = await access_visitor_session(rt, tx, token, origin)
            conversation = await tx.conversations.get_by_session(session.id)
            sent = await do_store_message(
                rt, tx, session, conversation, None, MessageType.FILE, record.name,
                client_id or _client_id(record), record,
            )  # fmt: skip
    except BaseException:
        await _discard(rt, record)
        raise
    return await _kept_if_new(rt, sent, record)


async def check_operator_upload(rt: Runtime, actor: Actor, conversation_id: str) -> FileKinds:
    """Before an agent's upload is read: the conversation, the role and the send rate."""
    await check_send_rate(rt, f"operator:{actor.operator_id or actor.kind}")
    async with rt.store.read() as tx:
        conversation = await tx.conversations.get(conversation_id)
        missing = _conversation_missing(conversation_id)
        if conversation is None:
            raise missing
        await check_role(tx, actor, conversation.website_id, ANY_ROLE, Scope.WRITE, missing=missing)
        website = await tx.websites.get(conversation.website_id)
    if website is None:
        raise missing
    return file_kinds(website)


async def do_upload_operator_file(
    rt: Runtime,
    actor: Actor,
    conversation_id: str,
    *,
    upload: Upload,
    kinds: FileKinds,
    client_id: str | None = None,
) -> Sent:
    """Store an agent's file in a conversation, as their message to the visitor."""
    if client_id is not None:
        check_client_id(client_id)
        async with rt.store.read() as tx:
            conversation = await tx.conversations.get(conversation_id)
            sent = await _sent_before(tx, conversation, client_id, actor.operator_id)
            if sent is not None:
                return sent  # the role was checked before the body was read
    record = await _keep(rt, upload, kinds)
    try:
        async with rt.store.transaction() as tx:
            conversation = await tx.conversations.get(conversation_id)
            missing = _conversation_missing(conversation_id)
            if conversation is None:
                raise missing
            await check_role(
                tx, actor, conversation.website_id, ANY_ROLE, Scope.WRITE, missing=missing
            )
            session = await tx.sessions.get(conversation.session_id)
            if session is None:
                raise missing
            sent = await do_store_message(
                rt, tx, session, conversation, actor.operator_id, MessageType.FILE,
                record.name, client_id or _client_id(record), record,
            )  # fmt: skip
    except BaseException:
        await _discard(rt, record)
        raise
    return await _kept_if_new(rt, sent, record)


async def do_store_mailed_file(
    rt: Runtime, target: ReplyAddress, upload: Upload, client_id: str
) -> Sent:
    """A file a reply by mail carried (web/mail_in.py): judged like any upload (the website's
    `file_types`, CAUSERIE_MAX_FILE, the content), stored as the visitor's or the operator's
    message. `client_id` makes a mail delivered twice one message (and stores nothing again)."""
    async with rt.store.read() as tx:
        conversation = await tx.conversations.get(target.conversation_id)
        missing = _conversation_missing(target.conversation_id)
        if conversation is None:
            raise missing
        existing = await tx.messages.get_by_client_id(conversation.id, client_id)
        if existing is not None:
            return sent_again(existing, target.operator_id)
        website = await tx.websites.get(conversation.website_id)
    if website is None:
        raise missing
    if target.operator_id is None:
        await check_upload_rate(rt, target.session_id, None)
    record = await _keep(rt, upload, file_kinds(website))
    try:
        async with rt.store.transaction() as tx:
            conversation = await tx.conversations.get(target.conversation_id)
            session = await tx.sessions.get(target.session_id)
            if conversation is None or session is None:
                raise missing
            if target.operator_id is not None:
                actor = Actor("operator", operator_id=target.operator_id)
                await check_role(
                    tx, actor, conversation.website_id, ANY_ROLE, Scope.WRITE, missing=missing
                )
            sent = await do_store_message(
                rt, tx, session, conversation, target.operator_id, MessageType.FILE,
                record.name, client_id, record,
            )  # fmt: skip
    except BaseException:
        await _discard(rt, record)
        raise
    return await _kept_if_new(rt, sent, record)


def _conversation_missing(conversation_id: str) -> NotFound:
    return NotFound(f"no conversation {shown(conversation_id)}", "conversation_not_found")


def _client_id(record: FileRecord) -> str:
    return f"file:{record.id}"


async def _sent_before(
    tx: Tx, conversation: Conversation | None, client_id: str, operator_id: str | None
) -> Sent | None:
    """The message of `client_id` if the conversation holds one: the upload was sent before
    (by this sender: `client_id_taken` if by another)."""
    if conversation is None:
        return None
    existing = await tx.messages.get_by_client_id(conversation.id, client_id)
    return None if existing is None else sent_again(existing, operator_id)


async def _kept_if_new(rt: Runtime, sent: Sent, record: FileRecord) -> Sent:
    """`sent`; when another upload of its `client_id` was stored meanwhile (the same file sent
    twice at once), the bytes kept for this one are deleted again."""
    if not sent.created:
        await _discard(rt, record)
    return sent


async def _keep(rt: Runtime, upload: Upload, kinds: FileKinds) -> FileRecord:
    """Judge the upload, clean it if it is an image, and store its bytes: the row to insert."""
    size, head = await asyncio.to_thread(_measure, upload.data)
    limit = rt.settings.max_file
    if size > limit:
        raise TooLarge(f"the file is {size} bytes; the limit is {limit} (CAUSERIE_MAX_FILE)")
    if size == 0:
        raise Invalid("file: the file is empty", "empty_file")
    content_type = sniff(head)
    if not allowed(content_type, kinds):
        raise UnsupportedType(
            f"files of type {content_type} are not accepted here: this website takes "
            f"{kinds.value} (setting file_types)"
        )
    source = upload.data
    thumbnail: bytes | None = None
    cleaned: IO[bytes] | None = None
    try:
        if content_type in IMAGE_TYPES:
            cleaned = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
            thumbnail = await asyncio.to_thread(_clean, upload.data, content_type, cleaned)
            source = cleaned
            size = await asyncio.to_thread(_rewind, cleaned)
        stored = await rt.files.put(_chunks(source))
    finally:
        if cleaned is not None:
            cleaned.close()
    thumbnail_key: str | None = None
    if thumbnail is not None:
        try:
            thumbnail_key = (await rt.files.put(_one(thumbnail))).id
        except BaseException:
            await do_forget_keys(rt, [stored.id])
            raise
    return FileRecord(
        id=new_id(),
        message_id=None,
        name=clean_name(upload.name),
        size=stored.size,
        content_type=content_type,
        store_key=stored.id,
        thumbnail_key=thumbnail_key,
        created_at=rt.clock.now(),
    )


def _measure(data: IO[bytes]) -> tuple[int, bytes]:
    data.seek(0, os.SEEK_END)
    size = data.tell()
    data.seek(0)
    head = data.read(SNIFF_BYTES)
    data.seek(0)
    return size, head


def _rewind(data: IO[bytes]) -> int:
    size = data.tell()
    data.seek(0)
    return size


def _clean(source: IO[bytes], content_type: str, out: IO[bytes]) -> bytes | None:
    try:
        return images.clean(source, content_type, out).thumbnail
    except images.ImageRefused as exc:
        if exc.too_large:
            raise TooLarge(exc.message, "image_too_large") from None
        raise Invalid(f"file: {exc.message}", "invalid_image") from None


async def _chunks(data: IO[bytes]) -> AsyncIterator[bytes]:
    while chunk := await asyncio.to_thread(data.read, CHUNK_SIZE):
        yield chunk


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _discard(rt: Runtime, record: FileRecord) -> None:
    """The message was not stored: its bytes go (shielded, so a cancelled request still
    removes them; a crash here leaves them to the sweep)."""
    keys = [k for k in (record.store_key, record.thumbnail_key) if k is not None]
    await asyncio.shield(do_forget_keys(rt, keys))


# downloads


def _file_missing(file_id: str) -> NotFound:
    return NotFound(f"no file {shown(file_id)}", "file_not_found")


async def access_visitor_file(
    rt: Runtime, *, token: str, origin: str | None, file_id: str, thumbnail: bool
) -> Download:
    """A file of the visitor's own conversation (never one of an agent's notes)."""
    async with rt.store.read() as tx:
        session = await access_visitor_session(rt, tx, token, origin)
        placed = await tx.files.get_placed(file_id)
    if (
        placed is None
        or placed.session_id != session.id
        or placed.message_type == MessageType.NOTE.value
    ):
        raise _file_missing(file_id)
    return await _open(rt, placed, thumbnail)


async def access_agent_file(rt: Runtime, actor: Actor, file_id: str, thumbnail: bool) -> Download:
    """A file of a conversation of one of the agent's websites."""
    async with rt.store.read() as tx:
        placed = await tx.files.get_placed(file_id)
        missing = _file_missing(file_id)
        if placed is None:
            raise missing
        await check_role(tx, actor, placed.website_id, ANY_ROLE, Scope.READ, missing=missing)
    return await _open(rt, placed, thumbnail)


def _thumbnail_name(name: str) -> str:
    """`photo.jpg`'s thumbnail is `photo.webp`: saved, its name says what it holds."""
    stem, dot, _ = name.rpartition(".")
    return f"{stem if dot and stem else name}.webp"


async def _open(rt: Runtime, placed: PlacedFile, thumbnail: bool) -> Download:
    record = placed.record
    if record.expired_at is not None or record.store_key is None:
        raise Gone(f"the file {shown(record.id)} expired and was deleted", "file_expired")
    if thumbnail:
        if record.thumbnail_key is None:
            raise NotFound(f"the file {shown(record.id)} has no thumbnail", "thumbnail_not_found")
        reader = await rt.files.open(record.thumbnail_key)
        return Download(
            _thumbnail_name(record.name), images.THUMBNAIL_TYPE, reader.size, reader, True
        )
    reader = await rt.files.open(record.store_key)
    inline = record.content_type in IMAGE_TYPES
    return Download(record.name, record.content_type, reader.size, reader, inline)
