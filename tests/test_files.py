"""Files in the chat (SPEC.md "Files", docs/api.md "Files"), at the level of the actions, on
SQLite and PostgreSQL: uploads judged by content, images cleaned, the file on the wire and in
the event log, who may download it, and its bytes deleted with its conversation (P20), its
person (P9) and by its retention (P6). What does not depend on the database (judging types,
cleaning images) runs on SQLite only. The HTTP routes are in tests/test_files_http.py."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from datetime import timedelta

import pytest

from causerie.actions import shield
from causerie.actions.conversations import do_delete_conversation
from causerie.actions.events import get_replay
from causerie.actions.file_deletion import SWEEP_GRACE, do_sweep_files
from causerie.actions.file_export import do_export_subject_archive
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
from causerie.actions.job_kinds import KINDS
from causerie.actions.jobs import do_run_due_jobs
from causerie.actions.messages import Sent, get_visitor_messages
from causerie.actions.privacy import do_erase_subject, do_export_subject
from causerie.actions.retention import do_purge
from causerie.actions.sessions import do_open_session
from causerie.actions.websites import do_delete_website, do_update_website, get_website
from causerie.clock import ManualClock
from causerie.domain.errors import (
    Gone,
    Invalid,
    NotFound,
    RateLimited,
    TooLarge,
    UnsupportedType,
)
from causerie.domain.events import Stream
from causerie.domain.filetypes import FileKinds
from causerie.domain.models import Actor, PageView
from causerie.domain.notice import Limits, notice
from causerie.domain.shield import network_key
from causerie.images import MAX_PIXELS
from causerie.settings import Settings
from causerie.wiring import build_runtime, close_runtime, start_runtime
from tests.conftest import ORIGIN, Harness, Site
from tests.files_support import (
    HTML_AS_PNG,
    PDF,
    SVG,
    animated_gif_with_comment,
    frames_of,
    has_no_metadata,
    jpeg_with_metadata,
    png_with_metadata,
    size_of,
)


def _visitor(harness: Harness, site: Site) -> str:
    opened = harness.run(
        do_open_session(
            harness.rt,
            website_id=site.website_id,
            token=None,
            page=PageView(url="https://shop.example/", title="Shop"),
            ip="203.0.113.9",
            origin=ORIGIN,
        )
    )
    return opened.token


def _upload(harness: Harness, token: str, data: bytes, name: str = "shot.jpg") -> Sent:
    rt = harness.rt
    kinds = harness.run(check_visitor_upload(rt, token=token, origin=ORIGIN))
    upload = Upload(name, io.BytesIO(data))
    return harness.run(
        do_upload_visitor_file(rt, token=token, origin=ORIGIN, upload=upload, kinds=kinds)
    )


def _set(harness: Harness, site: Site, settings: dict[str, object]) -> None:
    harness.run(
        do_update_website(
            harness.rt, Actor.cli(), site.website_id, name=None, origins=None, settings=settings
        )
    )


def _read(harness: Harness, download: Download) -> bytes:
    async def read() -> bytes:
        return b"".join([chunk async for chunk in download.reader])

    return harness.run(read())


def _visitor_file(harness: Harness, token: str, file_id: str, thumbnail: bool = False) -> Download:
    return harness.run(
        access_visitor_file(
            harness.rt, token=token, origin=ORIGIN, file_id=file_id, thumbnail=thumbnail
        )
    )


def _stored(harness: Harness) -> set[str]:
    """What the data folder's file store holds (the folder listed, not asked through Causerie)."""
    folder = harness.settings.data_dir / "files"
    return {p.name for p in folder.iterdir() if p.is_file()} if folder.exists() else set()


def _run_jobs(harness: Harness) -> None:
    harness.run(do_run_due_jobs(harness.rt, KINDS))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_p2_an_image_is_stored_oriented_and_without_its_metadata(
    harness: Harness, site: Site
) -> None:
    token = _visitor(harness, site)
    original = jpeg_with_metadata(640, 400)
    assert not has_no_metadata(original)  # the fixture does carry what must go
    sent = _upload(harness, token, original, "IMG_0001.jpg")
    file = sent.message.file
    assert file is not None and file.content_type == "image/jpeg" and file.has_thumbnail
    assert sent.message.type.value == "file" and sent.message.body == "IMG_0001.jpg"

    stored = _read(harness, _visitor_file(harness, token, file.id))
    assert has_no_metadata(stored)
    assert size_of(stored) == (400, 640)  # turned as EXIF said, the orientation then dropped
    assert file.size == len(stored)
    thumbnail = _visitor_file(harness, token, file.id, thumbnail=True)
    assert thumbnail.content_type == "image/webp" and thumbnail.inline
    small = _read(harness, thumbnail)
    assert has_no_metadata(small) and max(size_of(small)) == 320

    animated = _upload(harness, token, animated_gif_with_comment(), "a.gif").message.file
    assert animated is not None and animated.content_type == "image/gif"
    moving = _read(harness, _visitor_file(harness, token, animated.id))
    assert has_no_metadata(moving) and frames_of(moving) == 3

    png = _upload(harness, token, png_with_metadata(), "a.png").message.file
    assert png is not None and png.content_type == "image/png" and not png.has_thumbnail
    assert has_no_metadata(_read(harness, _visitor_file(harness, token, png.id)))


TYPES = [
    (HTML_AS_PNG, "cat.png", "text/html"),
    (SVG, "logo.svg", "image/svg+xml"),
    (PDF, "invoice.png", "application/pdf"),
    (b"plain words\n", "notes.exe", "text/plain"),
]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_type_is_judged_by_content_never_by_name(harness: Harness, site: Site) -> None:
    token = _visitor(harness, site)
    _set(harness, site, {"file_types": "any"})
    for data, name, content_type in TYPES:
        sent = _upload(harness, token, data, name)
        assert sent.message.file is not None
        assert sent.message.file.content_type == content_type, name
        download = _visitor_file(harness, token, sent.message.file.id)
        assert download.content_type == content_type and not download.inline
        assert _read(harness, download) == data


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_website_chooses_the_types_it_takes(harness: Harness, site: Site) -> None:
    token = _visitor(harness, site)
    # documents (the default): images, PDF, text; not markup or programs
    assert _upload(harness, token, PDF, "a.pdf").message.file is not None
    with pytest.raises(UnsupportedType, match="text/html"):
        _upload(harness, token, HTML_AS_PNG, "cat.png")
    with pytest.raises(UnsupportedType, match="application/x-executable"):
        _upload(harness, token, b"\x7fELF" + bytes(100), "a.png")
    _set(harness, site, {"file_types": "images"})
    with pytest.raises(UnsupportedType, match=r"application/pdf.*images"):
        _upload(harness, token, PDF, "a.pdf")
    assert _upload(harness, token, png_with_metadata(), "a.png").message.file is not None
    with pytest.raises(Invalid, match="file_types"):
        _set(harness, site, {"file_types": "all"})
    assert harness.scalar("SELECT count(*) FROM files") == 2


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_too_large_empty_broken_and_bomb_files_are_refused_and_leave_nothing(
    make_settings: object, harness: Harness, site: Site
) -> None:
    token = _visitor(harness, site)
    with pytest.raises(TooLarge, match="CAUSERIE_MAX_FILE"):
        _upload(harness, token, b"x" * (harness.settings.max_file + 1), "big.txt")
    with pytest.raises(Invalid, match="empty"):
        _upload(harness, token, b"", "empty.txt")
    with pytest.raises(Invalid, match="cannot be read") as broken:
        _upload(harness, token, b"\x89PNG\r\n\x1a\n" + bytes(200), "broken.png")
    assert broken.value.code == "invalid_image"
    # A PNG header claiming 20000 x 20000 pixels: refused before anything is decoded.
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
    idat = zlib.compress(bytes(60001) * 4)  # a few rows of zeros: megabytes once decoded
    bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat)
    bomb += chunk(b"IEND", b"")
    with pytest.raises(TooLarge, match=f"at most {MAX_PIXELS} are accepted") as refused:
        _upload(harness, token, bomb, "bomb.png")
    assert refused.value.code == "image_too_large"
    assert harness.scalar("SELECT count(*) FROM messages") == 0
    assert _stored(harness) == set()


def test_a_file_message_is_on_the_wire_in_history_and_the_event_log(
    harness: Harness, site: Site
) -> None:
    rt = harness.rt
    token = _visitor(harness, site)
    sent = _upload(harness, token, png_with_metadata(), "a.png")
    message = sent.message
    history = harness.run(
        get_visitor_messages(rt, token=token, origin=ORIGIN, before=None, limit=10)
    )
    assert history == [message]
    conversation = harness.scalar("SELECT session_id FROM conversations")
    for stream, url in (
        (Stream.of_session(conversation), f"/api/widget/v1/session/files/{message.file.id}"),
        (Stream.of_website(site.website_id), f"/api/v1/files/{message.file.id}"),
    ):
        frames = harness.run(get_replay(rt, stream, 0)).frames
        created = [text for _, text in frames if '"message.created"' in text]
        assert len(created) == 1 and f'"url":"{url}"' in created[0], created

    # an agent's file goes to the visitor too
    agent = Actor("operator", site.operator_ids["agent"])
    conversation_id = message.conversation_id
    kinds = harness.run(check_operator_upload(rt, agent, conversation_id))
    assert kinds is FileKinds.DOCUMENTS
    reply = harness.run(
        do_upload_operator_file(
            rt, agent, conversation_id, upload=Upload("r.pdf", io.BytesIO(PDF)), kinds=kinds
        )
    )
    assert reply.message.operator_name and reply.message.file is not None
    assert _read(harness, _visitor_file(harness, token, reply.message.file.id)) == PDF


def test_a_file_is_given_only_to_who_may_read_its_conversation(
    harness: Harness, site: Site
) -> None:
    rt = harness.rt
    token, other = _visitor(harness, site), _visitor(harness, site)
    file = _upload(harness, token, PDF, "a.pdf").message.file
    assert file is not None
    with pytest.raises(NotFound):
        _visitor_file(harness, other, file.id)
    with pytest.raises(NotFound):
        _visitor_file(harness, token, "nothing")
    agent = Actor("operator", site.operator_ids["agent"])
    assert _read(harness, harness.run(access_agent_file(rt, agent, file.id, False))) == PDF
    outsider = Actor("operator", site.operator_ids["other_owner"])
    with pytest.raises(NotFound):
        harness.run(access_agent_file(rt, outsider, file.id, False))
    with pytest.raises(NotFound):
        harness.run(check_operator_upload(rt, outsider, file_conversation(harness)))


def file_conversation(harness: Harness) -> str:
    return str(harness.scalar("SELECT id FROM conversations"))


def test_p20_a_deleted_conversation_leaves_no_bytes_of_its_files(
    harness: Harness, site: Site
) -> None:
    token = _visitor(harness, site)
    kept_token = _visitor(harness, site)
    _upload(harness, token, jpeg_with_metadata(), "a.jpg")
    _upload(harness, token, PDF, "a.pdf")
    _upload(harness, kept_token, PDF, "kept.pdf")
    assert len(_stored(harness)) == 4  # two files, one thumbnail, the other visitor's file
    conversation_id = harness.scalar(
        "SELECT m.conversation_id FROM messages m JOIN files f ON f.message_id = m.id "
        "WHERE f.name = 'a.pdf'"
    )
    owner = Actor("operator", site.operator_ids["owner"])
    harness.run(do_delete_conversation(harness.rt, owner, conversation_id))
    assert harness.scalar("SELECT count(*) FROM files") == 1  # the rows went with it
    _run_jobs(harness)  # the bytes go once the deletion committed, by a job
    assert len(_stored(harness)) == 1
    _run_jobs(harness)  # a job that runs again changes nothing
    assert harness.scalar("SELECT name FROM files") == "kept.pdf"
    assert len(_stored(harness)) == 1
    # the website's deletion takes the rest
    harness.run(do_delete_website(harness.rt, owner, site.website_id))
    _run_jobs(harness)
    assert harness.scalar("SELECT count(*) FROM files") == 0
    assert _stored(harness) == set()


def test_p9_a_person_is_exported_with_their_files_and_erased_with_them(
    harness: Harness, site: Site
) -> None:
    from causerie.actions.profiles import do_update_visitor_profile

    token = _visitor(harness, site)
    harness.run(
        do_update_visitor_profile(
            harness.rt, token=token, origin=ORIGIN, data=None, email="zoe@example.com"
        )
    )
    file = _upload(harness, token, PDF, "a.pdf").message.file
    assert file is not None
    owner = Actor("operator", site.operator_ids["owner"])
    exported = harness.run(do_export_subject(harness.rt, owner, email="zoe@example.com"))
    (message,) = exported["sessions"][0]["conversation"]["messages"]
    assert message["file"]["id"] == file.id and message["file"]["name"] == "a.pdf"
    archive = harness.run(do_export_subject_archive(harness.rt, owner, email="zoe@example.com"))
    with archive, zipfile.ZipFile(archive) as opened:
        document = json.loads(opened.read("export.json"))
        (message,) = document["sessions"][0]["conversation"]["messages"]
        assert message["file"]["path"] == f"files/{file.id}/a.pdf"
        assert opened.read(message["file"]["path"]) == PDF
        assert sorted(opened.namelist()) == ["export.json", f"files/{file.id}/a.pdf"]

    harness.run(do_erase_subject(harness.rt, owner, email="zoe@example.com"))
    _run_jobs(harness)
    assert harness.scalar("SELECT count(*) FROM files") == 0
    assert _stored(harness) == set()


def test_p6_a_website_expires_files_sooner_than_messages(harness: Harness, site: Site) -> None:
    rt = harness.rt
    token = _visitor(harness, site)
    old = _upload(harness, token, jpeg_with_metadata(), "old.jpg").message
    harness.clock.advance(timedelta(days=20))
    recent = _upload(harness, token, PDF, "recent.pdf").message
    _set(harness, site, {"retention": {"files": 10}})
    dry = harness.run(do_purge(rt, dry_run=True))
    assert dry["files"] == 1 and len(_stored(harness)) == 3
    counts = harness.run(do_purge(rt))
    assert counts["files"] == 1
    _run_jobs(harness)
    assert len(_stored(harness)) == 1  # the recent file's bytes only
    assert old.file is not None and recent.file is not None
    with pytest.raises(Gone):
        _visitor_file(harness, token, old.file.id)
    history = harness.run(
        get_visitor_messages(rt, token=token, origin=ORIGIN, before=None, limit=10)
    )
    assert [m.file.expired for m in history if m.file] == [True, False]
    assert [m.body for m in history] == ["old.jpg", "recent.pdf"]  # the messages stay

    # P8: the website's notice says so
    website = harness.run(get_website(rt, site.website_id))
    assert website is not None
    limits = Limits(timedelta(minutes=30), None, None, timedelta(days=182))
    for lang, said in (("en", "Files are deleted 10 days"), ("fr", "supprimés 10 jours")):
        _, sections = notice(website, limits, lang)
        assert any(said in p for section in sections for p in section.paragraphs), lang


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_sweep_deletes_bytes_no_row_holds_after_a_grace(harness: Harness, site: Site) -> None:
    rt = harness.rt
    token = _visitor(harness, site)
    _upload(harness, token, PDF, "kept.pdf")

    async def put() -> str:
        async def chunks():  # type: ignore[no-untyped-def]
            yield b"left by a crash between the put and the message"

        return (await rt.files.put(chunks())).id

    lost = harness.run(put())
    assert harness.run(do_sweep_files(rt)) == 1
    _run_jobs(harness)
    assert lost in _stored(harness)  # an upload may be about to commit its row: not yet
    harness.clock.advance(SWEEP_GRACE)
    _run_jobs(harness)
    assert len(_stored(harness)) == 1 and lost not in _stored(harness)


def test_no_upload_path_reads_the_clients_name_as_a_path() -> None:
    from causerie.actions.files import clean_name

    assert clean_name("../../etc/passwd") == "passwd"
    assert clean_name("C:\\Users\\zoé\\photo.jpg") == "photo.jpg"
    assert clean_name("evil\u202egnp.exe") == "evilgnp.exe"
    assert clean_name("..") == "file" and clean_name("") == "file"
    assert len(clean_name("a" * 1000)) == 255


def test_p18_visitor_uploads_meet_the_shields_upload_limit_and_are_counted(
    make_settings: Callable[..., Settings], clock: ManualClock, site: Site, harness: Harness
) -> None:
    """`CAUSERIE_UPLOAD_RATE` per session (the send rate aside): the third upload of a minute at
    2/m is refused before its body is read, and each accepted one is in the network's counts."""
    rt = build_runtime(make_settings(upload_rate="2/m"), clock)
    harness.run(start_runtime(rt))
    try:
        token = _visitor(harness, site)
        for _ in range(2):
            harness.run(check_visitor_upload(rt, token=token, origin=ORIGIN))
        with pytest.raises(RateLimited):
            harness.run(check_visitor_upload(rt, token=token, origin=ORIGIN))
        harness.run(shield.flushed())
        now = clock.now()
        counts = harness.run(rt.aggregates.read(now - timedelta(hours=1), now))
        network = network_key(rt.settings.secret_key, "203.0.113.9")
        assert sum(n for _, key, metric, n in counts if (key, metric) == (network, "uploads")) == 2
    finally:
        harness.run(close_runtime(rt))
