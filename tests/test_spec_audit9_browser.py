"""The installable inbox's service worker in headless Chromium against a real server (ninth
outside audit, branch audit9; docs/inbox.md, "Installable app"). It kept every `GET /api/v1`
answer for offline reading, a file's bytes too (served `no-store`, up to CAUSERIE_MAX_FILE each),
and kept a deleted conversation's copy after the server answered 404 (P20). The module's browser
and server are tests/test_push_browser.py's fixtures."""

from __future__ import annotations

import io
from typing import Any

from playwright.sync_api import BrowserContext, Page

from causerie.actions.conversations import do_delete_conversation
from causerie.actions.files import Upload, do_upload_visitor_file
from causerie.actions.sessions import do_open_session
from causerie.domain.filetypes import FileKinds
from causerie.domain.models import Actor, PageView
from tests.test_push_browser import ORIGIN, Env, env, installed

pytest_plugins = ["tests.browser_support"]  # browser, new_context
__all__ = ["env", "installed"]  # the fixtures this module's test takes

KEPT = (
    "caches.open('causerie-data').then((cache) => cache.keys())"
    ".then((kept) => kept.map((request) => new URL(request.url).pathname))"
)


def status_of(page: Page, path: str) -> Any:
    """What the page's own fetch of `path` answers, through the service worker."""
    return page.evaluate(f"fetch('{path}').then((answer) => answer.status)")


def test_p20_the_worker_keeps_no_file_and_forgets_a_deleted_conversation(
    installed: tuple[BrowserContext, Page], env: Env
) -> None:
    _, page = installed
    rt = env.harness.rt

    async def a_file() -> tuple[str, str]:
        opened = await do_open_session(
            rt, website_id=env.website_id, token=None, page=PageView(url=f"{ORIGIN}/"),
            ip="198.51.100.10", origin=ORIGIN,
        )  # fmt: skip
        sent = await do_upload_visitor_file(
            rt, token=opened.token, origin=ORIGIN, kinds=FileKinds.DOCUMENTS,
            upload=Upload("notes.txt", io.BytesIO(b"the visitor's notes\n")),
        )  # fmt: skip
        assert sent.message.file is not None
        return sent.message.conversation_id, sent.message.file.id

    conversation_id, file_id = env.harness.run(a_file())
    conversation, file = f"/api/v1/conversations/{conversation_id}", f"/api/v1/files/{file_id}"
    assert status_of(page, file) == 200 and status_of(page, conversation) == 200
    kept = page.evaluate(KEPT)
    assert conversation in kept  # read, so kept for offline reading
    assert file not in kept  # served no-store: never written to the browser's storage

    env.harness.run(do_delete_conversation(rt, Actor.cli(), conversation_id))
    assert status_of(page, conversation) == 404
    assert conversation not in page.evaluate(KEPT)
