"""Data-subject exports with the files themselves (P9, docs/privacy.md "Files"): the export's
JSON document and every file it names, in one ZIP archive.

`export.json` is the same document as the JSON export, each file of a message gaining `path`:
where its bytes are in the archive (`files/<id>/<name>`). An expired file has no bytes left
and no `path`. The archive is written to a temporary file, one chunk at a time from the store
(never a whole file in memory), and handed to the transport to stream.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import zipfile
from typing import IO, Any

from causerie.actions.files import clean_name
from causerie.actions.privacy import do_export_own_session, do_export_subject
from causerie.domain.files import FileMissing, PlacedFile
from causerie.domain.models import Actor, MessageType
from causerie.runtime import Runtime

DOCUMENT = "export.json"


async def do_export_own_session_archive(rt: Runtime, token: str, origin: str | None) -> IO[bytes]:
    """The visitor's own export with their conversation's files (never agents' notes')."""
    document = await do_export_own_session(rt, token, origin)
    files = await _files_of(rt, document)
    shown = [f for f in files if f.message_type != MessageType.NOTE.value]
    return await _archive(rt, document, shown)


async def do_export_subject_archive(
    rt: Runtime, actor: Actor, *, email: str | None = None, session_id: str | None = None
) -> IO[bytes]:
    """A person's export (as `do_export_subject`: checked, audited) with their files."""
    document = await do_export_subject(rt, actor, email=email, session_id=session_id)
    return await _archive(rt, document, await _files_of(rt, document))


async def _files_of(rt: Runtime, document: dict[str, Any]) -> list[PlacedFile]:
    session_ids = [str(session["id"]) for session in document["sessions"]]
    async with rt.store.long_read() as tx:
        return await tx.files.list_for_sessions(session_ids)


def _path(placed: PlacedFile) -> str:
    return f"files/{placed.record.id}/{clean_name(placed.record.name)}"


async def _archive(rt: Runtime, document: dict[str, Any], files: list[PlacedFile]) -> IO[bytes]:
    paths = {
        placed.record.id: _path(placed) for placed in files if placed.record.store_key is not None
    }
    for session in document["sessions"]:
        conversation = session.get("conversation") or {}
        for message in conversation.get("messages", []):
            file = message.get("file")
            if file is not None and file["id"] in paths:
                file["path"] = paths[file["id"]]
    out = tempfile.TemporaryFile()  # noqa: SIM115 (handed to the caller, who closes it)
    try:
        archive = zipfile.ZipFile(out, "w", zipfile.ZIP_STORED)
        text = json.dumps(document, ensure_ascii=False, indent=2).encode()
        await asyncio.to_thread(archive.writestr, DOCUMENT, text)
        for placed in files:
            key = placed.record.store_key
            if key is None:
                continue
            try:
                reader = await rt.files.open(key)
            except FileMissing:
                continue  # deleted meanwhile (its conversation went): nothing to export
            entry = await asyncio.to_thread(archive.open, paths[placed.record.id], "w")
            try:
                async for chunk in reader:
                    await asyncio.to_thread(entry.write, chunk)
            finally:
                await reader.aclose()
                await asyncio.to_thread(entry.close)
        await asyncio.to_thread(archive.close)
        await asyncio.to_thread(out.seek, 0)
    except BaseException:
        out.close()
        raise
    return out
