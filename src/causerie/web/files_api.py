"""Files in the chat over HTTP (docs/api.md "Files"): uploads as `multipart/form-data` with one
part `file`, by the visitor (`/api/widget/v1/session/files`, session token) and by agents
(`/api/v1/conversations/{id}/files`); downloads from the `url` and `thumbnail_url` a message's
file carries, with the credential of someone who may read the conversation.

An upload is authorised before its body is read; the body is bounded by `CAUSERIE_MAX_FILE`
(`web/limits.py`: 413, also for a chunked body or a lying Content-Length) and spooled by the
multipart parser (memory up to 1 MiB, then a temporary file), never held whole in memory. A
download streams from the store, with headers that keep a browser from running anything: the
content type judged at upload, `nosniff`, a sandbox CSP, and `attachment` for anything but
PNG, JPEG, GIF and WebP.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import IO, Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Path, Request
from fastapi.responses import StreamingResponse
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException

from causerie.actions.files import (
    Download,
    Upload,
    access_agent_file,
    access_visitor_file,
    check_operator_upload,
    check_visitor_upload,
    do_upload_operator_file,
    do_upload_visitor_file,
)
from causerie.actions.messages import Sent
from causerie.domain.files import CHUNK_SIZE
from causerie.domain.wire import message_json
from causerie.web.api_models import ERRORS, MessageBody
from causerie.web.deps import Bearer, CurrentActor, Rt
from causerie.web.errors import ApiError
from causerie.web.lean_route import LeanRoute
from causerie.web.limits import takes_body
from causerie.web.multipart_body import BodyCutShort, read_whole_form
from causerie.web.responses import JSONResponse
from causerie.web.routes import access

visitor = APIRouter(
    prefix="/api/widget/v1", tags=["visitor"], responses=ERRORS, route_class=LeanRoute
)
agent = APIRouter(prefix="/api/v1", tags=["agent"], responses=ERRORS, route_class=LeanRoute)

FileId = Annotated[str, Path(max_length=64)]

CSP = "default-src 'none'; sandbox"

UPLOAD_DOC: dict[str, object] = {
    **takes_body("file"),
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "the file; its type is judged by its content, "
                            "at most CAUSERIE_MAX_FILE bytes",
                        },
                        "client_id": {
                            "type": "string",
                            "pattern": "^[A-Za-z0-9._:-]{1,64}$",
                            "description": "optional: the same id sent again (a retry) "
                            "answers 200 with the message stored the first time",
                        },
                    },
                }
            }
        },
    },
}
_UPLOAD_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {
        "model": MessageBody,
        "description": "The client_id was used already: the message stored then",
    },
    413: {"description": "larger than CAUSERIE_MAX_FILE, or an image with too many pixels"},
    415: {"description": "a type the website's setting file_types does not take"},
}
_DOWNLOAD_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {
        "description": "the file's bytes, of its type as judged at upload",
        # Any type: PNG, PDF, plain text, ... (`application/octet-stream` for what has none).
        "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
    },
    410: {"description": "the file expired (the website's retention.files)"},
}


async def read_upload(request: Request) -> tuple[Upload, UploadFile, str | None]:
    """The one part `file` of a multipart body (422 without it) and its optional `client_id`."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "multipart/form-data":  # `multipart/form-dataX` too: no form is read
        raise ApiError(
            415, "unsupported_media_type", "send the file as multipart/form-data, part 'file'"
        )
    try:
        form = await read_whole_form(request.headers, request.stream(), max_files=1, max_fields=8)
    except BodyCutShort:
        raise ApiError(
            400,
            "invalid_multipart",
            "the body is not valid multipart/form-data: it ends before its closing boundary "
            "(a body cut short: send it whole)",
        ) from None
    except MultiPartException as exc:  # Starlette's words for a body its parser refused
        if "files" in exc.message:
            raise ApiError(
                422, "too_many_files", "file: send one file, as the one part 'file'"
            ) from None
        raise ApiError(
            400, "invalid_multipart", f"the body is not valid multipart/form-data: {_why(exc)}"
        ) from None
    part = form.get("file")
    if not isinstance(part, UploadFile):
        await form.close()
        raise ApiError(422, "missing_file", "file: send the file as the multipart part 'file'")
    if len(form.getlist("client_id")) > 1:  # which one a retry meant cannot be told
        await form.close()
        raise ApiError(422, "invalid_client_id", "client_id: send one client_id part, not several")
    client_id = form.get("client_id")  # a text: sent as a file, it was one file too many
    return (
        Upload(part.filename or "file", part.file),
        part,
        (client_id if isinstance(client_id, str) else None),
    )


def _why(exc: MultiPartException) -> str:
    """What the multipart parser refused: Starlette says "Invalid multipart data." whatever
    the cause, which it keeps as `exc`'s cause (python-multipart's error)."""
    if "header size" in str(exc.__cause__):  # a part's header line over 4 KiB
        return "a part's header is over 4 KiB: send a shorter file name (at most 255 characters)"
    return exc.message


def _answer(sent: Sent, *, for_visitor: bool) -> JSONResponse:
    return JSONResponse(
        {"message": message_json(sent.message, for_visitor=for_visitor)},
        status_code=201 if sent.created else 200,
    )


@visitor.post(
    "/session/files",
    status_code=201,
    response_model=MessageBody,
    responses=_UPLOAD_RESPONSES,
    openapi_extra=UPLOAD_DOC,
    summary="Send a file: the stored message of type file (also sent as message.created)",
)
async def upload_visitor_file(request: Request, rt: Rt, token: Bearer) -> JSONResponse:
    origin = request.headers.get("origin")
    kinds = await check_visitor_upload(rt, token=token, origin=origin)
    upload, part, client_id = await read_upload(request)
    try:
        sent = await do_upload_visitor_file(
            rt, token=token, origin=origin, upload=upload, kinds=kinds, client_id=client_id
        )
    finally:
        await part.close()
    return _answer(sent, for_visitor=True)


@agent.post(
    "/conversations/{conversation_id}/files",
    status_code=201,
    response_model=MessageBody,
    responses=_UPLOAD_RESPONSES,
    openapi_extra={**UPLOAD_DOC, **access("agent")},
    summary="Send a file to the visitor: the stored message of type file",
)
async def upload_agent_file(
    conversation_id: str, request: Request, rt: Rt, actor: CurrentActor
) -> JSONResponse:
    kinds = await check_operator_upload(rt, actor, conversation_id)
    upload, part, client_id = await read_upload(request)
    try:
        sent = await do_upload_operator_file(
            rt, actor, conversation_id, upload=upload, kinds=kinds, client_id=client_id
        )
    finally:
        await part.close()
    return _answer(sent, for_visitor=False)


ExportFormat = Literal["json", "zip"]


def archive_response(archive: IO[bytes], name: str) -> StreamingResponse:
    """A data-subject export's ZIP (actions/file_export.py), streamed from its temporary file,
    closed (and so deleted) once sent."""

    async def chunks() -> AsyncIterator[bytes]:
        try:
            while chunk := await asyncio.to_thread(archive.read, CHUNK_SIZE):
                yield chunk
        finally:
            archive.close()

    size = archive.seek(0, 2)
    archive.seek(0)
    return StreamingResponse(
        chunks(),
        media_type="application/zip",
        headers={
            "Content-Length": str(size),
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _disposition(download: Download) -> str:
    kind = "inline" if download.inline else "attachment"
    ascii_name = download.name.encode("ascii", "replace").decode().replace('"', "_")
    ascii_name = ascii_name.replace("\\", "_").replace("?", "_")
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(download.name, safe='')}"


async def _stream(download: Download) -> AsyncIterator[bytes]:
    try:
        async for chunk in download.reader:
            yield chunk
    finally:
        await download.reader.aclose()


def serve(download: Download) -> StreamingResponse:
    """The file, streamed from the store, with the headers that keep it inert."""
    return StreamingResponse(
        _stream(download),
        media_type=download.content_type,
        headers={
            "Content-Length": str(download.size),
            "Content-Disposition": _disposition(download),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": CSP,
            "Cache-Control": "private, no-store",
            "Cross-Origin-Resource-Policy": "cross-origin",
        },
    )


@visitor.get(
    "/session/files/{file_id}",
    responses=_DOWNLOAD_RESPONSES,
    response_class=StreamingResponse,
    summary="A file of the visitor's own conversation",
)
async def get_visitor_file(
    file_id: FileId, request: Request, rt: Rt, token: Bearer
) -> StreamingResponse:
    download = await access_visitor_file(
        rt, token=token, origin=request.headers.get("origin"), file_id=file_id, thumbnail=False
    )
    return serve(download)


@visitor.get(
    "/session/files/{file_id}/thumbnail",
    responses=_DOWNLOAD_RESPONSES,
    response_class=StreamingResponse,
    summary="The thumbnail of an image of the visitor's own conversation (WebP)",
)
async def get_visitor_thumbnail(
    file_id: FileId, request: Request, rt: Rt, token: Bearer
) -> StreamingResponse:
    download = await access_visitor_file(
        rt, token=token, origin=request.headers.get("origin"), file_id=file_id, thumbnail=True
    )
    return serve(download)


@agent.get(
    "/files/{file_id}",
    responses=_DOWNLOAD_RESPONSES,
    response_class=StreamingResponse,
    openapi_extra=access("agent"),
    summary="A file of a conversation of one of the caller's websites",
)
async def get_agent_file(file_id: FileId, rt: Rt, actor: CurrentActor) -> StreamingResponse:
    return serve(await access_agent_file(rt, actor, file_id, thumbnail=False))


@agent.get(
    "/files/{file_id}/thumbnail",
    responses=_DOWNLOAD_RESPONSES,
    response_class=StreamingResponse,
    openapi_extra=access("agent"),
    summary="The thumbnail of an image of a conversation of one of the caller's websites (WebP)",
)
async def get_agent_thumbnail(file_id: FileId, rt: Rt, actor: CurrentActor) -> StreamingResponse:
    return serve(await access_agent_file(rt, actor, file_id, thumbnail=True))
