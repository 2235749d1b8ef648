"""Files in the chat over HTTP (SPEC.md "Files"): multipart uploads by the visitor and by agents,
their limits (413 whatever the client says of the length, 415, 429), the downloads with the
credential of someone who may read the conversation and the headers that keep them inert, and
the OpenAPI document. On SQLite: the database paths are in tests/test_files.py."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from causerie.clock import ManualClock
from causerie.settings import Settings
from tests.conftest import ORIGIN, Harness, ServerThread, Site
from tests.files_support import HTML_AS_PNG, PDF, SVG, has_no_metadata, jpeg_with_metadata

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _open(http: httpx.Client, site: Site) -> str:
    opened = http.post(
        f"/api/widget/v1/websites/{site.website_id}/session",
        json={"page": {"url": f"{ORIGIN}/"}},
        headers={"Origin": ORIGIN},
    )
    token: str = opened.json()["token"]
    return token


def _visitor(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Origin": ORIGIN}


def _agent(site: Site, role: str = "agent") -> dict[str, str]:
    return {"Authorization": f"Bearer {site.tokens[role]}"}


def _upload(
    http: httpx.Client, path: str, headers: dict[str, str], data: bytes, name: str
) -> httpx.Response:
    return http.post(path, headers=headers, files={"file": (name, data, "image/png")})


def _error(response: httpx.Response) -> str:
    code: str = response.json()["error"]["code"]
    return code


def test_files_go_both_ways_and_come_back_only_to_their_readers(
    http: httpx.Client, harness: Harness, site: Site
) -> None:
    token, stranger = _open(http, site), _open(http, site)
    sent = _upload(
        http, "/api/widget/v1/session/files", _visitor(token), jpeg_with_metadata(), "me.jpg"
    )
    assert sent.status_code == 201, sent.text
    message = sent.json()["message"]
    file = message["file"]
    assert message["type"] == "file" and message["author"] == "visitor"
    assert set(file) == {"id", "name", "size", "content_type", "url", "thumbnail_url"}
    assert file["content_type"] == "image/jpeg" and file["name"] == "me.jpg"
    assert file["url"] == f"/api/widget/v1/session/files/{file['id']}"

    got = http.get(file["url"], headers=_visitor(token))
    assert got.status_code == 200
    assert got.headers["content-type"] == "image/jpeg"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in got.headers["content-security-policy"]
    assert "default-src 'none'" in got.headers["content-security-policy"]
    assert got.headers["content-disposition"].startswith("inline;")
    assert int(got.headers["content-length"]) == file["size"] == len(got.content)
    assert has_no_metadata(got.content)
    thumbnail = http.get(file["thumbnail_url"], headers=_visitor(token))
    assert thumbnail.status_code == 200 and thumbnail.headers["content-type"] == "image/webp"

    # A URL alone grants nothing; another visitor's token, an agent's token: not theirs.
    assert http.get(file["url"]).status_code == 401
    assert _error(http.get(file["url"], headers=_visitor(stranger))) == "file_not_found"
    assert http.get(file["url"], headers=_agent(site)).status_code == 401

    # The agents of the website read it from their own API; another website's owner cannot.
    agent_url = f"/api/v1/files/{file['id']}"
    assert http.get(agent_url, headers=_agent(site)).content == got.content
    assert http.get(agent_url, headers=_agent(site, "other_owner")).status_code == 404
    assert http.get(agent_url, headers=_visitor(token)).status_code == 401

    conversation_id = message["conversation_id"]
    reply = _upload(
        http, f"/api/v1/conversations/{conversation_id}/files", _agent(site), PDF, "a.pdf"
    )
    assert reply.status_code == 201, reply.text
    pdf = reply.json()["message"]["file"]
    assert pdf["url"] == f"/api/v1/files/{pdf['id']}" and "thumbnail_url" not in pdf
    assert reply.json()["message"]["operator"]["id"] == site.operator_ids["agent"]
    outsider = _upload(
        http,
        f"/api/v1/conversations/{conversation_id}/files",
        _agent(site, "other_owner"),
        PDF,
        "x.pdf",
    )
    assert outsider.status_code == 404
    visitor_copy = http.get(f"/api/widget/v1/session/files/{pdf['id']}", headers=_visitor(token))
    assert visitor_copy.content == PDF
    assert visitor_copy.headers["content-disposition"].startswith("attachment;")
    history = http.get("/api/widget/v1/session/messages", headers=_visitor(token)).json()
    assert [m["file"]["id"] for m in history["messages"]] == [file["id"], pdf["id"]]
    thread = http.get(f"/api/v1/conversations/{conversation_id}", headers=_agent(site)).json()
    assert thread["messages"][0]["file"]["url"] == agent_url

    # P9: the visitor's own export, with their files
    exported = http.get("/api/widget/v1/session/export?format=zip", headers=_visitor(token))
    assert exported.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(exported.content)) as archive:
        assert archive.read(f"files/{pdf['id']}/a.pdf") == PDF
        assert archive.read(f"files/{file['id']}/me.jpg") == got.content


def test_markup_is_never_served_to_be_rendered(
    http: httpx.Client, harness: Harness, site: Site
) -> None:
    owner = _agent(site, "owner")
    patched = http.patch(
        f"/api/v1/websites/{site.website_id}",
        headers=owner,
        json={"settings": {"file_types": "any"}},
    )
    assert patched.status_code == 200, patched.text
    token = _open(http, site)
    for data, name, content_type in (
        (HTML_AS_PNG, "cat.png", "text/html"),
        (SVG, "a.svg", "image/svg+xml"),
    ):
        sent = _upload(http, "/api/widget/v1/session/files", _visitor(token), data, name)
        file = sent.json()["message"]["file"]
        assert file["content_type"] == content_type
        got = http.get(file["url"], headers=_visitor(token))
        assert got.headers["content-type"].startswith(content_type)
        assert got.headers["content-disposition"].startswith("attachment;")
        assert got.headers["x-content-type-options"] == "nosniff"
        assert "sandbox" in got.headers["content-security-policy"]


def _chunks(total: int, size: int = 16 * 1024) -> Iterator[bytes]:
    head = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\n'
    yield head
    sent = 0
    while sent < total:
        yield b"x" * min(size, total - sent)
        sent += size
    yield b"\r\n--b--\r\n"


def test_uploads_are_bounded_judged_and_counted(
    make_settings: Callable[..., Settings],
    start_server: Callable[[Settings], ServerThread],
    harness: Harness,
    site: Site,
    clock: ManualClock,
) -> None:
    server = start_server(make_settings(max_file="100KiB", frame_rate="2/s"))
    limit = 100 * 1024
    with httpx.Client(base_url=server.url, timeout=10) as http:
        token = _open(http, site)
        path = "/api/widget/v1/session/files"
        headers = _visitor(token)
        # declared larger than the route takes: refused before the body is read
        big = _upload(http, path, headers, b"x" * (limit + 80 * 1024), "big.txt")
        assert big.status_code == 413 and "CAUSERIE_MAX_FILE" in big.text
        # no length given (chunked): refused once it passes the limit
        chunked = http.post(
            path,
            headers={**headers, "Content-Type": "multipart/form-data; boundary=b"},
            content=_chunks(limit + 80 * 1024),
        )
        assert chunked.status_code == 413
        # within the framing's room, over the file's own limit: the action's 413
        over = _upload(http, path, headers, b"x" * (limit + 1), "over.txt")
        assert over.status_code == 413 and _error(over) == "file_too_large"
        refused = _upload(http, path, headers, b"\x7fELF" + bytes(64), "a.png")
        assert refused.status_code == 415 and "application/x-executable" in refused.text
        clock.advance(timedelta(seconds=1))  # refused uploads count against the rate too
        not_multipart = http.post(path, headers=headers, json={"file": "x"})
        assert not_multipart.status_code == 415
        missing = http.post(path, headers=headers, data={"other": "x"}, files={"f": ("a", b"a")})
        assert missing.status_code == 422 and _error(missing) == "missing_file"
        assert harness.scalar("SELECT count(*) FROM files") == 0
        clock.advance(timedelta(seconds=1))
        # the send rate: 2/s, bursts of 4; uploads count as messages
        ok = [_upload(http, path, headers, PDF, f"{i}.pdf").status_code for i in range(4)]
        assert ok == [201] * 4
        limited = _upload(http, path, headers, PDF, "5.pdf")
        assert limited.status_code == 429 and limited.headers["retry-after"] == "1"
        assert harness.scalar("SELECT count(*) FROM files") == 4


def test_openapi_describes_the_multipart_routes(http: httpx.Client, harness: Harness) -> None:
    spec: dict[str, Any] = http.get("/api/v1/openapi.json").json()
    for path in ("/api/widget/v1/session/files", "/api/v1/conversations/{conversation_id}/files"):
        post = spec["paths"][path]["post"]
        schema = post["requestBody"]["content"]["multipart/form-data"]["schema"]
        assert schema["required"] == ["file"]
        assert schema["properties"]["file"]["format"] == "binary"
        assert post["x-causerie-body"] == "file"
        assert {"201", "413", "415", "429"} <= set(post["responses"])
    assert "/api/v1/files/{file_id}" in spec["paths"]
    assert "/api/widget/v1/session/files/{file_id}/thumbnail" in spec["paths"]


def _stored_files(harness: Harness) -> int:
    """The bytes the data folder's file store holds (listed, not asked through Causerie)."""
    folder = harness.settings.data_dir / "files"
    return sum(1 for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0


def test_an_upload_sent_again_with_its_client_id_is_one_message_and_one_file(
    http: httpx.Client, harness: Harness, site: Site
) -> None:
    """A retry after an answer lost on the way (the chatbox's and the inbox's Retry) sends the
    upload's `client_id` again: 200 with the message stored the first time, nothing stored."""
    token = _open(http, site)
    visitor_path = "/api/widget/v1/session/files"

    def send(path: str, headers: dict[str, str], client_id: object, name: str) -> httpx.Response:
        data = {} if client_id is None else {"client_id": client_id}
        return http.post(path, headers=headers, data=data, files={"file": (name, PDF)})

    first = send(visitor_path, _visitor(token), "up-1", "a.pdf")
    assert first.status_code == 201, first.text
    stored = _stored_files(harness)
    again = send(visitor_path, _visitor(token), "up-1", "other-name.pdf")
    assert again.status_code == 200, again.text
    assert again.json()["message"] == first.json()["message"]
    assert _stored_files(harness) == stored

    conversation_id = first.json()["message"]["conversation_id"]
    agent_path = f"/api/v1/conversations/{conversation_id}/files"
    reply = send(agent_path, _agent(site), "reply-1", "b.pdf")
    assert reply.status_code == 201, reply.text
    assert send(agent_path, _agent(site), "reply-1", "b.pdf").json() == reply.json()
    # Without a client_id each upload is a new message.
    assert send(agent_path, _agent(site), None, "b.pdf").status_code == 201
    assert send(agent_path, _agent(site), None, "b.pdf").status_code == 201

    # A client_id the rule refuses, or sent as a file (one file too many), is said and stores
    # nothing.
    stored = _stored_files(harness)
    bad = send(visitor_path, _visitor(token), "not an id!", "c.pdf")
    assert bad.status_code == 422 and _error(bad) == "invalid_client_id"
    as_file = http.post(
        visitor_path,
        headers=_visitor(token),
        files={"file": ("c.pdf", PDF), "client_id": ("id.txt", b"up-2")},
    )
    assert as_file.status_code == 422 and _error(as_file) == "too_many_files"
    assert _stored_files(harness) == stored
    messages = http.get("/api/widget/v1/session/messages", headers=_visitor(token)).json()
    assert len(messages["messages"]) == 4
