"""Files in the chatbox and the inbox (docs/widget.md and docs/inbox.md, "Files"), in headless
Chromium against a real server: one server, one chatbox page on a host site of another origin
and one signed-in inbox page for the module, the tests in order. Every wait is on a DOM
condition.
"""

from __future__ import annotations

import base64
import io
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, Locator, Page, Route, expect

from causerie.actions.websites import do_create_website, do_update_website
from causerie.clock import ManualClock
from causerie.domain.models import Actor, Role
from tests.browser_support import (
    TIMEOUT_MS,
    CauserieServer,
    HostSite,
    Operator,
    ThreadedHarness,
    add_operator,
    host_page,
    served_settings,
)
from tests.files_support import PDF

pytest_plugins = ["tests.browser_support"]  # browser, host_site

MAX_FILE = 300 * 1024
BLOB = re.compile(r"^blob:")
# Scripts that would set a flag on the page that ran them, were they ever run.
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" onload="top.__ran=1">'
    b"<script>top.__ran = 1; alert(1)</script></svg>"
)
HTML_AS_PNG = b"<!doctype html><html><body><script>top.__ran = 1; alert(1)</script></body></html>"


def png(width: int, height: int, color: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "PNG")
    return buffer.getvalue()


def noisy_png(side: int) -> bytes:
    """A PNG of about 3 * side * side bytes that does not compress (for a slow upload)."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(3 * side * side)).save(buffer, "PNG")
    return buffer.getvalue()


@dataclass
class Env:
    url: str
    harness: ThreadedHarness
    website_id: str
    agent: Operator
    host: HostSite


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, host_site: HostSite) -> Iterator[Env]:
    folder = tmp_path_factory.mktemp("files-browser")
    url, port, settings = served_settings(folder, max_file=str(MAX_FILE))
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    harness = ThreadedHarness(settings, clock)
    cli = Actor.cli()
    website = harness.run(do_create_website(harness.rt, cli, "Demo shop", [host_site.origin]))
    harness.run(
        do_update_website(
            harness.rt, cli, website.id, name=None, origins=None,
            settings={"file_types": "any"},
        )
    )  # fmt: skip
    agent = add_operator(harness, "ada@shop.example", "Ada", [(website.id, Role.AGENT)])
    server = CauserieServer(settings, clock, port=port)
    host_site.pages["/"] = host_page(url, website.id)
    yield Env(url, harness, website.id, agent, host_site)
    server.stop()
    harness.close()


def set_file_types(env: Env, value: str) -> None:
    env.harness.run(
        do_update_website(
            env.harness.rt, Actor.cli(), env.website_id, name=None, origins=None,
            settings={"file_types": value},
        )
    )  # fmt: skip


def _errors(page: Page, found: list[str]) -> None:
    page.on("pageerror", lambda e: found.append(str(e)))
    page.on("dialog", lambda d: (found.append(f"dialog: {d.message}"), d.dismiss()))


@pytest.fixture(scope="module")
def problems() -> list[str]:
    return []


@pytest.fixture(scope="module")
def chat(browser: Browser, env: Env, problems: list[str]) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    _errors(page, problems)
    page.goto(env.host.url("/"))
    page.wait_for_function("() => !!window.$causerie?.get?.('session:id')")
    page.locator("causerie-chatbox").locator('[part="launcher"]').click()
    expect(page.locator("causerie-chatbox").locator('[part="attach"]')).to_be_visible()
    yield page
    context.close()


@pytest.fixture(scope="module")
def inbox(browser: Browser, env: Env, chat: Page, problems: list[str]) -> Iterator[Page]:
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="en-US", service_workers="block"
    )
    context.set_default_timeout(TIMEOUT_MS)
    login = context.request.post(
        f"{env.url}/api/v1/auth/login",
        data={"email": env.agent.email, "password": env.agent.password},
    )
    assert login.ok, login.text()
    page = context.new_page()
    _errors(page, problems)
    page.goto(f"{env.url}/app#/")
    expect(page.locator("#availability")).to_be_visible()
    yield page
    context.close()


def box(chat: Page) -> Locator:
    return chat.locator("causerie-chatbox")


def file_messages(harness: ThreadedHarness) -> list[tuple[str, str]]:
    rows = harness.rows("SELECT author, body FROM messages WHERE type = 'file' ORDER BY seq")
    return [(str(r[0]), str(r[1])) for r in rows]


def ran(page: Page) -> bool:
    return bool(page.evaluate("() => !!window.__ran"))


ORDERED = ["first.png", "second.png", "third.png"]


def sent_in_the_order_chosen(
    page: Page, env: Env, url: str, picker: Locator, shown: Locator
) -> None:
    """Three files picked at once, the first held before the server: the others wait their turn
    (sent side by side, they were stored and shown in the order they finished), then all three
    are sent, stored and shown in the order chosen."""
    held: list[Route] = []
    arrived: list[str] = []

    def first_held(route: Route) -> None:
        body = route.request.post_data_buffer or b""
        arrived.append(next(n for n in ORDERED if f'filename="{n}"'.encode() in body))
        if arrived[-1] == ORDERED[0]:
            held.append(route)
        else:
            route.continue_()

    before = shown.count()
    page.route(url, first_held)
    try:
        files = [
            {"name": n, "mimeType": "image/png", "buffer": png(20 + i, 20)}
            for i, n in enumerate(ORDERED)
        ]
        picker.set_input_files(files)
        deadline = time.monotonic() + TIMEOUT_MS / 1000
        while not held:  # Playwright hands routes over while the page is asked something
            assert time.monotonic() < deadline, f"the first upload never came: {arrived}"
            page.evaluate("0")
        expect(page.locator('.upload[data-state="waiting"]')).to_have_count(2)
        expect(page.locator('.upload[data-state="sending"]')).to_have_count(1)
        assert arrived == ORDERED[:1]
        held[0].continue_()
        expect(page.locator(".upload")).to_have_count(0)
    finally:
        page.unroute(url)
    assert arrived == ORDERED
    assert [body for _, body in file_messages(env.harness)][-3:] == ORDERED
    labels = [f"Open the image {n}" for n in ORDERED]
    expect(shown).to_have_count(before + len(ORDERED))
    order = shown.evaluate_all("(all) => all.map((p) => p.getAttribute('aria-label'))")
    assert order[-3:] == labels


DROP = """([selector, name, type, b64, inShadow]) => {
  const root = inShadow ? document.querySelector("causerie-chatbox").shadowRoot : document;
  const target = root.querySelector(selector);
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const data = new DataTransfer();
  data.items.add(new File([bytes], name, { type }));
  for (const kind of ["dragenter", "dragover", "drop"]) {
    const init = { dataTransfer: data, bubbles: true, cancelable: true, composed: true };
    target.dispatchEvent(new DragEvent(kind, init));
  }
}"""

PASTE = """([selector, name, b64, inShadow]) => {
  const root = inShadow ? document.querySelector("causerie-chatbox").shadowRoot : document;
  const target = root.querySelector(selector);
  target.focus();
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const data = new DataTransfer();
  data.items.add(new File([bytes], name, { type: "image/png" }));
  const init = { clipboardData: data, bubbles: true, cancelable: true, composed: true };
  target.dispatchEvent(new ClipboardEvent("paste", init));
}"""


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# -- the chatbox ---------------------------------------------------------------------------------


def test_the_visitor_sends_files_by_button_paste_and_drop_and_sees_previews(
    chat: Page, env: Env
) -> None:
    root = box(chat)
    root.locator('input[type="file"]').set_input_files(
        [
            {"name": "photo.png", "mimeType": "image/png", "buffer": png(640, 400)},
            {"name": "invoice.pdf", "mimeType": "application/pdf", "buffer": PDF},
        ]
    )
    chat.evaluate(PASTE, ['[part="composer"]', "image.png", b64(png(40, 30, (0, 90, 0))), True])
    chat.evaluate(DROP, ['[part="panel"]', "dropped.png", "image/png", b64(png(50, 50)), True])
    previews = root.locator("article.message.visitor .preview img")
    expect(previews).to_have_count(3)
    for index in range(3):  # each shown from a blob: fetched with the token, never the URL
        expect(previews.nth(index)).to_have_attribute("src", BLOB)
    photo = root.locator('.preview[aria-label="Open the image photo.png"] img')
    expect(photo).to_have_js_property("complete", True)
    assert photo.evaluate("(img) => img.naturalWidth") == 320  # the server's thumbnail
    card = root.locator("article.message.visitor .card")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("invoice.pdf")
    expect(card).to_contain_text("application/pdf")
    expect(root.locator(".upload")).to_have_count(0)
    sent = file_messages(env.harness)
    assert sorted(body for _, body in sent) == [
        "dropped.png", "image.png", "invoice.pdf", "photo.png"
    ]  # fmt: skip
    with chat.expect_download() as download:
        card.click()
    saved = Path(download.value.path()).read_bytes()
    assert saved == PDF and download.value.suggested_filename == "invoice.pdf"


def test_the_image_viewer_is_a_modal_dialog_closed_by_esc_with_the_focus_back(
    chat: Page,
) -> None:
    root = box(chat)
    thumb = root.locator('.preview[aria-label="Open the image photo.png"]')
    thumb.focus()
    thumb.press("Enter")
    dialog = root.locator('dialog[role="dialog"][aria-modal="true"]')
    expect(dialog).to_be_visible()
    expect(dialog.locator("img")).to_have_attribute("src", BLOB)
    expect(dialog.locator("img")).to_have_js_property("complete", True)
    assert dialog.locator("img").evaluate("(img) => img.naturalWidth") == 640  # the full image
    close = dialog.get_by_role("button", name="Close")
    expect(close).to_be_focused()
    chat.keyboard.press("Tab")
    expect(close).to_be_focused()  # trapped
    chat.keyboard.press("Shift+Tab")
    expect(close).to_be_focused()
    chat.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(thumb).to_be_focused()
    expect(root.locator('[part="panel"]')).to_be_visible()  # Esc closed the viewer only


def test_a_slow_upload_shows_its_progress_and_one_in_flight_is_cancelled(
    chat: Page, env: Env
) -> None:
    root = box(chat)
    # A throttled upload: its bar moves between 0 and 100, then the file is sent.
    cdp = chat.context.new_cdp_session(chat)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 20_000},
    )
    try:
        root.locator('input[type="file"]').set_input_files(
            {"name": "slow.png", "mimeType": "image/png", "buffer": noisy_png(100)}
        )
        expect(root.locator(".upload progress")).to_have_count(1)
        chat.wait_for_function(
            """() => {
              const root = document.querySelector("causerie-chatbox").shadowRoot;
              const bar = root.querySelector(".upload progress");
              return bar && bar.value > 0 && bar.value < 100;
            }"""
        )
        expect(root.locator('.preview[aria-label="Open the image slow.png"]')).to_have_count(1)
        expect(root.locator(".upload")).to_have_count(0)
    finally:
        cdp.send(
            "Network.emulateNetworkConditions",
            {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
        )
        cdp.detach()

    # One held before the server, so that Cancel comes while it is in flight: the request is
    # aborted and its line goes.
    before = len(file_messages(env.harness))
    held: list[Route] = []

    def hold(route: Route) -> None:
        held.append(route)  # neither continued nor answered: the upload stays in flight

    chat.route("**/api/widget/v1/session/files", hold)
    try:
        root.locator('input[type="file"]').set_input_files(
            {"name": "cancelled.png", "mimeType": "image/png", "buffer": png(20, 20)}
        )
        expect(root.locator(".upload progress")).to_have_count(1)
        with chat.expect_event("requestfailed") as aborted:
            root.locator(".upload").get_by_role("button", name="Cancel").click()
        assert aborted.value.url.endswith("/api/widget/v1/session/files")
        expect(root.locator(".upload")).to_have_count(0)
    finally:
        chat.unroute("**/api/widget/v1/session/files")
    assert len(file_messages(env.harness)) == before
    assert root.locator("article.message").filter(has_text="cancelled.png").count() == 0


def test_a_file_too_large_or_refused_says_why_and_can_be_retried_or_removed(
    chat: Page, env: Env
) -> None:
    root = box(chat)
    before = len(file_messages(env.harness))
    root.locator('input[type="file"]').set_input_files(
        {"name": "huge.pdf", "mimeType": "application/pdf", "buffer": PDF + b"0" * MAX_FILE}
    )
    failed = root.locator('.upload[data-state="failed"]')
    expect(failed).to_have_attribute("data-status", "413")
    expect(failed.get_by_role("alert")).to_have_text("Not sent: the file is too large.")
    failed.get_by_role("button", name="Retry").click()
    expect(root.locator('.upload[data-state="failed"][data-status="413"]')).to_have_count(1)
    root.locator(".upload").get_by_role("button", name="Remove").click()
    expect(root.locator(".upload")).to_have_count(0)
    set_file_types(env, "images")
    try:
        root.locator('input[type="file"]').set_input_files(
            {"name": "notes.pdf", "mimeType": "application/pdf", "buffer": PDF}
        )
        refused = root.locator('.upload[data-state="failed"]')
        expect(refused).to_have_attribute("data-status", "415")
        expect(refused.get_by_role("alert")).to_have_text(
            "Not sent: this type of file is not accepted here."
        )
        refused.get_by_role("button", name="Remove").click()
    finally:
        set_file_types(env, "any")
    assert len(file_messages(env.harness)) == before


def test_a_retried_upload_whose_answer_was_lost_is_stored_once(chat: Page, env: Env) -> None:
    """The server stored the file but its answer never came (a network cut): the line offers
    Retry, which sends the upload's client_id again and gets the message stored then."""
    root = box(chat)
    before = len(file_messages(env.harness))
    lost: list[int] = []

    def lose_the_first_answer(route: Route) -> None:
        if lost:
            route.continue_()
            return
        lost.append(route.fetch().status)  # the server stores the file...
        route.abort()  # ...and its answer never reaches the chatbox

    chat.route("**/api/widget/v1/session/files", lose_the_first_answer)
    try:
        root.locator('input[type="file"]').set_input_files(
            {"name": "twice.pdf", "mimeType": "application/pdf", "buffer": PDF}
        )
        failed = root.locator('.upload[data-state="failed"]')
        expect(failed).to_have_count(1)
        failed.get_by_role("button", name="Retry").click()
        expect(root.locator(".upload")).to_have_count(0)
    finally:
        chat.unroute("**/api/widget/v1/session/files", lose_the_first_answer)
    assert lost == [201]
    expect(root.locator("article.message.visitor .card", has_text="twice.pdf")).to_have_count(1)
    assert len(file_messages(env.harness)) == before + 1


def test_svg_and_html_named_png_are_only_cards_and_never_run_in_the_chatbox(
    chat: Page, env: Env, problems: list[str]
) -> None:
    root = box(chat)
    root.locator('input[type="file"]').set_input_files(
        [
            {"name": "logo.svg", "mimeType": "image/svg+xml", "buffer": SVG},
            {"name": "cat.png", "mimeType": "image/png", "buffer": HTML_AS_PNG},
        ]
    )
    cards = root.locator("article.message.visitor .card")
    expect(cards.filter(has_text="logo.svg")).to_contain_text("image/svg+xml")
    expect(cards.filter(has_text="cat.png")).to_contain_text("text/html")
    assert root.locator("article.message.visitor img:not([src^='blob:'])").count() == 0
    for name, data in (("logo.svg", SVG), ("cat.png", HTML_AS_PNG)):
        with chat.expect_download() as download:
            cards.filter(has_text=name).click()
        assert Path(download.value.path()).read_bytes() == data
    assert not ran(chat)
    assert problems == []


# -- the inbox -----------------------------------------------------------------------------------


def open_thread(inbox: Page, chat: Page) -> None:
    session_id = chat.evaluate("() => window.$causerie.get('session:id')")
    conversation_id = inbox.evaluate(
        """(id) => fetch("/api/v1/sessions/" + id)
            .then((r) => r.json()).then((d) => d.conversation_id)""",
        session_id,
    )
    inbox.evaluate("(h) => { location.hash = h; }", f"#/c/{conversation_id}")
    expect(inbox.locator("#composer")).to_be_visible()


def test_the_inbox_shows_the_visitors_files_and_never_runs_svg_or_html(
    inbox: Page, chat: Page, problems: list[str]
) -> None:
    open_thread(inbox, chat)
    previews = inbox.locator(".log .message.visitor .preview img")
    expect(previews).to_have_count(4)
    expect(previews.first).to_have_attribute("src", BLOB)
    expect(previews.first).to_have_js_property("complete", True)
    cards = inbox.locator(".log .message.visitor .file-card")
    expect(cards.filter(has_text="logo.svg")).to_contain_text("image/svg+xml")
    expect(cards.filter(has_text="cat.png")).to_contain_text("text/html")
    with inbox.expect_download() as download:
        cards.filter(has_text="logo.svg").click()
    assert Path(download.value.path()).read_bytes() == SVG
    # The viewer: keyboard, Esc, the focus back on the thumbnail.
    thumb = inbox.locator('.preview[aria-label="Open the image photo.png"]')
    thumb.focus()
    thumb.press("Enter")
    dialog = inbox.locator('dialog[role="dialog"][aria-modal="true"]')
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Close")).to_be_focused()
    inbox.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Close")).to_be_focused()
    inbox.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(inbox.locator('.preview[aria-label="Open the image photo.png"]')).to_be_focused()
    assert not ran(inbox)
    assert problems == []


def test_the_agent_sends_files_by_button_paste_and_drop_and_the_visitor_sees_them(
    inbox: Page, chat: Page, env: Env
) -> None:
    inbox.locator("#attach-input").set_input_files(
        {"name": "manual.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    inbox.evaluate(PASTE, ["#composer", "screen.png", b64(png(30, 30)), False])
    inbox.evaluate(DROP, ["form.composer", "plan.png", "image/png", b64(png(60, 20)), False])
    expect(inbox.locator(".log .message.operator .file-card")).to_contain_text("manual.pdf")
    expect(inbox.locator(".log .message.operator .preview img")).to_have_count(2)
    root = box(chat)
    expect(root.locator("article.message.operator .card")).to_contain_text("manual.pdf")
    expect(root.locator("article.message.operator .preview img")).to_have_count(2)
    expect(root.locator("article.message.operator .preview img").first).to_have_attribute(
        "src", BLOB
    )
    operator = [body for author, body in file_messages(env.harness) if author == "operator"]
    assert sorted(operator) == ["manual.pdf", "plan.png", "screen.png"]


def test_the_inbox_says_why_an_upload_failed(inbox: Page) -> None:
    inbox.locator("#attach-input").set_input_files(
        {"name": "huge.pdf", "mimeType": "application/pdf", "buffer": PDF + b"0" * MAX_FILE}
    )
    failed = inbox.locator('.upload[data-state="failed"]')
    expect(failed).to_have_attribute("data-status", "413")
    expect(failed.get_by_role("alert")).to_have_text("Not sent: the file is too large.")
    failed.get_by_role("button", name="Remove").click()
    expect(inbox.locator(".upload")).to_have_count(0)


ICON = """(button) => {
  const svg = button.querySelector("svg");
  const box = svg && svg.getBoundingClientRect();
  return {
    text: button.textContent, hidden: svg && svg.getAttribute("aria-hidden"),
    width: box && box.width, height: box && box.height,
    length: svg ? svg.querySelector("path").getTotalLength() : 0,
    stroke: svg && getComputedStyle(svg).stroke, color: getComputedStyle(button).color,
  };
}"""


def test_the_attach_buttons_are_drawn_icons_that_keep_their_names(inbox: Page, chat: Page) -> None:
    """The paper clip is inline SVG in the text's colour, not an emoji (an empty box where no
    emoji font is installed), and the buttons keep their accessible names."""
    for button in (
        box(chat).get_by_role("button", name="Attach files", exact=True),
        inbox.get_by_role("button", name="Attach files for the visitor"),
    ):
        expect(button).to_be_visible()
        drawn = button.evaluate(ICON)
        assert drawn["text"] == "" and drawn["hidden"] == "true", drawn
        assert drawn["width"] >= 16 and drawn["height"] >= 16 and drawn["length"] > 30, drawn
        assert drawn["stroke"] == drawn["color"], drawn


def test_file_messages_render_when_the_history_loads(chat: Page, env: Env) -> None:
    """A new page: the history's file messages are previews and cards once the chatbox opens."""
    page = chat.context.new_page()
    page.goto(env.host.url("/"))
    page.wait_for_function("() => !!window.$causerie?.get?.('session:id')")
    root = box(page)
    root.locator('[part="launcher"]').click()
    expect(root.locator("article.message .preview img")).to_have_count(6)
    expect(root.locator("article.message .card")).to_have_count(5)
    expect(root.locator("article.message .preview img").first).to_have_attribute("src", BLOB)
    page.close()


def test_files_picked_at_once_go_and_show_in_the_order_chosen(chat: Page, env: Env) -> None:
    root = box(chat)
    sent_in_the_order_chosen(
        chat,
        env,
        "**/api/widget/v1/session/files",
        root.locator('input[type="file"]'),
        root.locator("article.message.visitor .preview"),
    )


def test_the_agents_files_picked_at_once_go_and_show_in_the_order_chosen(
    inbox: Page, env: Env
) -> None:
    sent_in_the_order_chosen(
        inbox,
        env,
        "**/api/v1/conversations/*/files",
        inbox.locator("#attach-input"),
        inbox.locator(".log .message.operator .preview"),
    )
