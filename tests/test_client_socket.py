"""The shared socket module (src/causerie/client/socket.js, docs/realtime.md) on its own, in real
Chromium against a real server: a host page on another origin imports it from Causerie, as the
chatbox does, and drives a visitor socket with a real session.

What the chatbox's and the inbox's own tests do not isolate: the resume after a server restart
(every stored event once, in order, from `after`), the backoff's delays and jitter (on Playwright's
fake clock), and the messages sent again after a reconnection or a `rate_limited`, stored once.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from playwright.sync_api import Page

from tests import widget_support
from tests.browser_support import CauserieServer, HostSite, NewContext, ThreadedHarness
from tests.live import Live
from tests.support import free_port
from tests.widget_support import Desk, Shop

# tests/widget_support.py's fixtures: SQLite, the harness off Playwright's loop, a shop, a server.
database_url = widget_support.database_url
harness = widget_support.harness
shop = widget_support.shop
start_causerie = widget_support.start_causerie
causerie = widget_support.causerie
desks = widget_support.desks

pytest_plugins = ["tests.browser_support"]  # browser, new_context, host_site, host

WAIT_MS = 10_000


def module_page(causerie_url: str) -> str:
    """A page that imports socket.js from Causerie and records what a Socket reports."""
    from causerie.web.assets import VERSION

    return f"""<!doctype html><html><head><meta charset="utf-8"><title>socket</title>
<link rel="icon" href="data:,"></head><body>
<script type="module">
import {{ Socket }} from "{causerie_url}/widget/{VERSION}/socket.js";
Object.assign(window, {{ received: [], states: [], late: [], auths: [] }});
window.start = (url, token, seq) => {{
  window.socket = new Socket({{
    url, seq,
    auth: (after) => {{ auths.push(after); return {{ type: "auth", token, after }}; }},
    onFrame: (frame) => received.push(frame),
    onState: (state) => states.push(state),
    onLate: (clientId) => late.push(clientId),
  }});
}};
window.loaded = true;
</script></body></html>"""


def open_page(new_context: NewContext, host: HostSite, causerie_url: str) -> Page:
    host.pages["/socket"] = module_page(causerie_url)
    page = new_context().new_page()
    page.goto(host.url("/socket"))
    page.wait_for_function("() => window.loaded === true")
    return page


def new_session(causerie_url: str, website_id: str, origin: str) -> dict[str, Any]:
    response = httpx.post(
        f"{causerie_url}/api/widget/v1/websites/{website_id}/session",
        content=json.dumps({"page": {"url": f"{origin}/socket", "title": "socket"}}),
        headers={"Origin": origin, "Content-Type": "text/plain"},
    )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def start(page: Page, causerie_url: str, token: str, seq: int | None) -> None:
    url = causerie_url.replace("http", "ws", 1) + "/ws/visitor"
    page.evaluate("([url, token, seq]) => start(url, token, seq)", [url, token, seq])
    wait_ready(page)


def wait_ready(page: Page) -> None:
    page.wait_for_function("() => socket.ready", timeout=WAIT_MS)


def received(page: Page, type_: str) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = page.evaluate(
        "(type) => received.filter((f) => f.type === type)", type_
    )
    return frames


def wait_count(page: Page, type_: str, count: int) -> list[dict[str, Any]]:
    page.wait_for_function(
        "([type, count]) => received.filter((f) => f.type === type).length >= count",
        arg=[type_, count],
        timeout=WAIT_MS,
    )
    return received(page, type_)


def test_a_resume_after_a_server_restart_brings_every_missed_event_once_in_order(
    new_context: NewContext,
    host: HostSite,
    causerie: CauserieServer,
    shop: Shop,
    desks: list[Live],
) -> None:
    session = new_session(causerie.url, shop.website_id, host.origin)
    page = open_page(new_context, host, causerie.url)
    start(page, causerie.url, session["token"], session["seq"])
    desk = Desk(causerie.url, shop, desks)
    for n in (1, 2, 3):
        desk.reply(f"before {n}", session_id=session["session"]["id"])
    wait_count(page, "message.created", 3)
    last_seen = page.evaluate("() => socket.seq")

    # The server stops, and comes back while the page is offline: the agent writes meanwhile.
    seq = desk.seq
    desk.close()
    causerie.stop()
    page.wait_for_function("() => socket.attempt > 0 && !socket.ready", timeout=WAIT_MS)
    page.context.set_offline(True)
    causerie.start_again()
    desk = Desk(causerie.url, shop, desks, after=seq)
    for n in (1, 2, 3):
        desk.reply(f"while away {n}", session_id=session["session"]["id"])
    page.context.set_offline(False)  # `online`: the socket reconnects at once
    page.wait_for_function("() => socket.ready", timeout=15_000)
    created = wait_count(page, "message.created", 6)
    desk.reply("after", session_id=session["session"]["id"])
    created = wait_count(page, "message.created", 7)

    bodies = [f["message"]["body"] for f in created]
    assert bodies == [
        *(f"before {n}" for n in (1, 2, 3)),
        *(f"while away {n}" for n in (1, 2, 3)),
        "after",
    ]
    seqs = [f["seq"] for f in created]
    assert seqs == sorted(set(seqs)), "no duplicate, in order"
    stored = [f["seq"] for f in page.evaluate("() => received") if f["type"] != "ready"]
    assert stored == sorted(stored)
    auths = page.evaluate("() => auths")
    assert auths[0] == session["seq"]
    assert auths[1:] == [last_seen], "resumed once, from the last seq seen"
    assert page.evaluate("() => [socket.attempt, socket.seq]") == [0, created[-1]["seq"]]
    assert [s for s in page.evaluate("() => states") if s != "connecting"][-1] == "online"


def test_reconnections_back_off_from_half_a_second_to_ten_with_jitter(
    new_context: NewContext, host: HostSite, causerie: CauserieServer
) -> None:
    """Nothing listens at the socket's address: each attempt fails, and the next waits twice as
    long, up to 10 s, times 0.75 to 1.25 (`Math.random` is pinned here); time is the page's fake
    clock, so the test waits for no delay."""
    host.pages["/socket"] = module_page(causerie.url)
    context = new_context()
    context.add_init_script(
        """
        window.randomness = 0.5;
        Math.random = () => window.randomness;
        const Real = WebSocket;
        window.attempts = [];
        window.WebSocket = class extends Real {
          constructor(url) { super(url); attempts.push(Date.now()); }
        };
        """
    )
    page = context.new_page()
    page.clock.install(time=1_000_000)
    page.goto(host.url("/socket"))
    page.wait_for_function("() => window.loaded === true")
    page.clock.pause_at(2_000_000)  # from now on, time moves only when the test says
    nowhere = f"ws://127.0.0.1:{free_port()}/ws/visitor"
    page.evaluate("(url) => start(url, 'no-token', 0)", nowhere)

    pinned = [0.5] * 7 + [0.0, 0.999]  # the last two: the jitter's two ends
    delays, expected = [], []
    for attempt, randomness in enumerate(pinned):
        # The attempt failed (a real refusal): the next one waits on the fake clock.
        page.wait_for_function(
            "(n) => socket.attempt === n && socket.socket === null", arg=attempt + 1
        )
        wait = int(min(10_000, 500 * 2**attempt) * (0.75 + randomness / 2))
        expected.append(wait)
        if attempt + 1 < len(pinned):  # for the delay after the next failure
            page.evaluate("(r) => { window.randomness = r; }", pinned[attempt + 1])
        page.clock.run_for(wait - 1)
        assert page.evaluate("() => attempts.length") == attempt + 1, f"attempt {attempt + 2} early"
        page.clock.run_for(2)
        page.wait_for_function("(n) => attempts.length === n", arg=attempt + 2)
        times = page.evaluate("() => attempts")
        delays.append(times[-1] - times[-2])
    assert expected == [500, 1000, 2000, 4000, 8000, 10_000, 10_000, 7_500, 12_495]
    assert all(e <= d <= e + 1 for d, e in zip(delays, expected, strict=True)), delays
    assert page.evaluate("() => socket.ready") is False


def _stored_bodies(harness: ThreadedHarness) -> list[str]:
    return [row[0] for row in harness.rows("SELECT body FROM messages ORDER BY seq")]


def test_messages_not_acknowledged_are_sent_again_after_a_reconnection_and_stored_once(
    new_context: NewContext,
    host: HostSite,
    causerie: CauserieServer,
    shop: Shop,
    harness: ThreadedHarness,
) -> None:
    session = new_session(causerie.url, shop.website_id, host.origin)
    page = open_page(new_context, host, causerie.url)
    start(page, causerie.url, session["token"], session["seq"])

    # 1. Stored, but its ack is lost (the page drops it): the message stays pending.
    page.evaluate(
        """() => {
          const receive = socket.receive.bind(socket);
          window.dropAcks = true;
          socket.receive = (frame) => (dropAcks && frame.type === "message.ack") || receive(frame);
          socket.sendMessage({ type: "message.send", client_id: "lost-ack-1", body: "stored" });
        }"""
    )
    stored = wait_count(page, "message.created", 1)[0]["message"]
    assert page.evaluate("() => [...socket.pending.keys()]") == ["lost-ack-1"]

    # 2. The server stops; a message written meanwhile waits.
    causerie.stop()
    page.wait_for_function("() => !socket.ready", timeout=WAIT_MS)
    went = page.evaluate(
        """() => socket.sendMessage(
             { type: "message.send", client_id: "offline-2", body: "written while down" })"""
    )
    assert went is False
    assert page.evaluate("() => [...socket.pending.keys()]") == ["lost-ack-1", "offline-2"]

    # 3. Back: both go again on `ready`; the first is acknowledged with what was stored.
    page.evaluate("() => { window.dropAcks = false; }")
    causerie.start_again()
    acks = wait_count(page, "message.ack", 2)
    by_client = {a["client_id"]: a["message"] for a in acks}
    assert by_client["lost-ack-1"]["id"] == stored["id"]
    assert by_client["offline-2"]["body"] == "written while down"
    assert page.evaluate("() => socket.pending.size") == 0
    assert page.evaluate("() => late") == []
    assert _stored_bodies(harness) == ["stored", "written while down"]


def test_rate_limited_messages_are_sent_again_and_each_is_stored_once(
    new_context: NewContext,
    host: HostSite,
    start_causerie: widget_support.StartServer,
    shop: Shop,
    harness: ThreadedHarness,
) -> None:
    """60 messages at once: over the server's burst (20 frames at 10/s), the rest are refused
    with `rate_limited`; the socket sends them again after the error's `retry_after`, without
    the caller's help. (At 10/s the refusals do not depend on the server's pace: it would have
    to take 4 s to read the 60 frames for the bucket to refill enough; at 20/s, 1 s sufficed on a
    loaded machine.)"""
    causerie = start_causerie(frame_rate="10/s")
    session = new_session(causerie.url, shop.website_id, host.origin)
    page = open_page(new_context, host, causerie.url)
    sent: list[str] = []
    errors: list[str] = []

    def on_socket(ws: Any) -> None:
        ws.on("framesent", lambda payload: sent.append(payload))
        ws.on(
            "framereceived",
            lambda payload: errors.append(payload) if '"error"' in payload else None,
        )

    page.on("websocket", on_socket)
    start(page, causerie.url, session["token"], session["seq"])
    page.evaluate(
        """() => { for (let n = 0; n < 60; n++) socket.sendMessage(
             { type: "message.send", client_id: `burst-${n}`, body: `message ${n}` }); }"""
    )
    acks = wait_count(page, "message.ack", 60)
    assert sorted(a["client_id"] for a in acks) == sorted(f"burst-{n}" for n in range(60))
    refused = [json.loads(e) for e in errors]
    assert refused and all(e["code"] == "rate_limited" for e in refused), refused
    assert sum('"message.send"' in frame for frame in sent) == 60 + len(refused)
    assert received(page, "error") == [], "rate_limited is handled by the socket itself"
    assert page.evaluate("() => socket.pending.size") == 0
    assert sorted(_stored_bodies(harness)) == sorted(f"message {n}" for n in range(60))
