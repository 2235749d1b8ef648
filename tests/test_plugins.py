"""Plugins (docs/plugins.md): every hook reached from the server, and the two example plugins of
`examples/plugins/`: the away reply, and the chat-tool bridge's round trip through a real HTTP
receiver on loopback (Slack's signed slash command and Mattermost's token)."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import importlib
import json
import sys
import tomllib
import urllib.parse
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from causerie.actions.inbox import get_thread
from causerie.actions.messages import do_send_session_message
from causerie.actions.privacy import get_register
from causerie.actions.retention import do_purge
from causerie.actions.sessions import do_open_session
from causerie.clock import ManualClock
from causerie.domain.models import Actor, PageView
from causerie.domain.replies import expand
from causerie.plugins import PluginRule, hookimpl, load_plugins
from causerie.runtime import Runtime
from causerie.settings import Settings
from tests.conftest import ORIGIN, OTHER_ORIGIN, Harness, ServerThread, Site
from tests.support import As, chat, wait_until
from tests.test_errors import error_of
from tests.webhook_receiver import Receiver

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "plugins"
for folder in ("away_reply", "chat_bridge"):
    if str(EXAMPLES / folder) not in sys.path:
        sys.path.insert(0, str(EXAMPLES / folder))

from causerie_away_reply import AwayReply  # noqa: E402
from causerie_chat_bridge import ChatBridge  # noqa: E402

CLI = Actor.cli()
PAGE = {"url": "https://shop.example/", "title": "Shop", "referrer": ""}


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: these tests are about the hooks; the store under them is the same as
    everywhere (tests/test_webhooks.py runs the events' storage on both databases)."""
    return f"sqlite:///{tmp_path / 'causerie.db'}"


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(webhook_allow_private="true")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def with_plugins(harness: Harness, *plugins: tuple[str, object]) -> Runtime:
    """The harness's runtime, with these plugins (and none installed)."""
    return dataclasses.replace(harness.rt, plugins=load_plugins(plugins, entry_points=False))


def visitor_writes(rt: Runtime, harness: Harness, site: Site, text: str) -> str:
    """A new visitor sends `text`; its conversation's id."""

    async def run() -> str:
        opened = await do_open_session(
            rt,
            website_id=site.website_id,
            token=None,
            page=PageView(url=f"{ORIGIN}/"),
            ip="198.51.100.7",
            origin=ORIGIN,
        )
        sent = await do_send_session_message(rt, opened.session.id, client_id="c1", body=text)
        await rt.plugins.drain()
        await do_send_session_message(rt, opened.session.id, client_id="c2", body="anyone?")
        await rt.plugins.drain()
        return sent.message.conversation_id

    return harness.run(run())


class Probe:
    """A plugin that implements every hook and records what it is given."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.purged: list[tuple[datetime, bool]] = []

    @hookimpl
    def causerie_event(self, event: Any) -> None:
        self.events.append(event)

    @hookimpl
    def causerie_retention_rules(self) -> list[PluginRule]:
        async def purge(rt: Any, now: datetime, dry_run: bool) -> int:
            self.purged.append((now, dry_run))
            return 3

        return [PluginRule("probe-notes", "the probe's notes after a day", purge)]

    @hookimpl
    def causerie_reply_variable_names(self) -> list[str]:
        return ["visitor_page", "not a name"]

    @hookimpl
    def causerie_reply_variables(self, session: Any) -> dict[str, str]:
        return {"visitor_page": session.page_url, "away_text": "overridden?"}

    @hookimpl
    def causerie_recipients(self) -> list[str]:
        return ["probe: nothing leaves, it is a test"]


def test_hooks_receive_events_purges_variables_and_the_register(
    harness: Harness, site: Site, clock: ManualClock
) -> None:
    probe = Probe()
    rt = with_plugins(harness, ("probe", probe), ("away-reply", AwayReply("")))
    visitor_writes(rt, harness, site, "hello")

    assert [e.type for e in probe.events] == [
        "message.created",
        "conversation.created",  # not also conversation.updated: the same news
        "message.created",
    ]
    assert probe.events[0].data["message"]["body"] == "hello"
    assert {e.website_id for e in probe.events} == {site.website_id}

    counts = harness.run(do_purge(rt, dry_run=True))
    assert counts["plugin:probe-notes"] == 3 and probe.purged == [(clock.now(), True)]

    conversation_id = probe.events[1].data["conversation"]["id"]
    thread = harness.run(get_thread(rt, CLI, conversation_id))
    variables = rt.plugins.reply_variables(rt, thread.conversation, thread.session)
    assert variables["visitor_page"] == f"{ORIGIN}/"
    # The first registered plugin wins a name two of them give.
    assert variables["away_text"] == "overridden?"
    assert expand("From {visitor_page}: {unknown}", variables) == f"From {ORIGIN}/: {{unknown}}"
    # What can be saved in a reply: the names that can be written `{name}`.
    assert rt.plugins.reply_variable_names() == {"visitor_page", "away_text"}

    register = harness.run(get_register(rt, CLI))
    assert "- Plugin: probe: nothing leaves, it is a test" in register


def test_a_plugin_that_fails_breaks_nothing(harness: Harness, site: Site) -> None:
    class Broken:
        @hookimpl
        def causerie_event(self, event: Any) -> Any:
            if event.type == "conversation.created":
                raise RuntimeError("broken plugin")

            async def later() -> None:
                raise RuntimeError("broken later")

            return later()

    rt = with_plugins(harness, ("broken", Broken()))
    conversation_id = visitor_writes(rt, harness, site, "hello")
    thread = harness.run(get_thread(rt, CLI, conversation_id))
    assert [m.body for m in thread.messages] == ["hello", "anyone?"]


def test_the_away_reply_answers_once_when_no_agent_is_online(harness: Harness, site: Site) -> None:
    away = AwayReply("agent@shop.example", "We are away until Monday.")
    rt = with_plugins(harness, ("away-reply", away))
    conversation_id = visitor_writes(rt, harness, site, "hello")
    thread = harness.run(get_thread(rt, CLI, conversation_id))
    assert [(m.author.value, m.body) for m in thread.messages] == [
        ("visitor", "hello"),
        ("operator", "We are away until Monday."),
        ("visitor", "anyone?"),
    ]
    assert thread.messages[1].operator_id == site.operator_ids["agent"]


def test_the_away_reply_stays_silent_when_an_agent_is_online(harness: Harness, site: Site) -> None:
    rt = with_plugins(harness, ("away-reply", AwayReply("agent@shop.example")))

    harness.run(rt.presence.set_agent(site.website_id, "conn-1", "online"))
    conversation_id = visitor_writes(rt, harness, site, "hello")
    thread = harness.run(get_thread(rt, CLI, conversation_id))
    assert [m.author.value for m in thread.messages] == ["visitor", "visitor"]


# -- the chat bridge, through a real server -------------------------------------------------------

SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
MATTERMOST_TOKEN = "mm-token-1234"


@pytest.fixture
def bridged(
    settings: Settings,
    harness: Harness,
    site: Site,
    receiver: Receiver,
    clock: ManualClock,
) -> Iterator[ServerThread]:
    bridge = ChatBridge(
        website_id=site.website_id,
        incoming_url=receiver.url,
        operator_email="agent@shop.example",
        slack_secret=SLACK_SECRET,
        mattermost_token=MATTERMOST_TOKEN,
    )
    server = ServerThread(settings, clock, [("chat-bridge", bridge)])
    yield server
    server.stop()


def _slack(body: str, stamp: int, secret: str = SLACK_SECRET) -> dict[str, str]:
    signed = f"v0:{stamp}:{body}".encode()
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return {
        "x-slack-signature": f"v0={digest}",
        "x-slack-request-timestamp": str(stamp),
        "content-type": "application/x-www-form-urlencoded",
    }


def test_the_bridge_round_trip_from_the_chatbox_to_slack_and_back(
    bridged: ServerThread, receiver: Receiver, clock: ManualClock, harness: Harness, site: Site
) -> None:
    with httpx.Client(base_url=bridged.url, timeout=10) as http:
        opened = http.post(
            f"/api/widget/v1/websites/{site.website_id}/session",
            json={"page": PAGE},
            headers={"Origin": ORIGIN},
        ).json()
        visitor = {"Authorization": f"Bearer {opened['token']}", "Origin": ORIGIN}
        sent = http.post(
            "/api/widget/v1/session/messages",
            json={"client_id": "v1", "type": "text", "body": "Do you ship to Lyon?"},
            headers=visitor,
        )
        assert sent.status_code == 201, sent.text
        conversation_id = sent.json()["message"]["conversation_id"]
        wait_until(lambda: len(receiver.requests) == 2, 10, lambda: f"{receiver.requests}")
        posted = [json.loads(body)["text"] for _, body in receiver.requests]
        assert any(conversation_id in t and "Do you ship to Lyon?" in t for t in posted)

        command = urllib.parse.urlencode(
            {
                "command": "/causerie",
                "text": f"{conversation_id} Yes, in two days.",
                "user_name": "ada",
                "trigger_id": "13345224609.738474920.8088930838d88f008e0",
            }
        )
        now = int(clock.now().timestamp())
        for headers, status in (
            ({"content-type": "application/x-www-form-urlencoded"}, 401),  # unsigned
            (_slack(command, now, "another secret"), 401),
            (_slack(command, now - 600), 401),  # stale: a replay
            (_slack(command, now), 200),
            (_slack(command, now), 200),  # the tool's retry: stored once
        ):
            answer = http.post("/plugins/chat-bridge/command", content=command, headers=headers)
            assert answer.status_code == status, answer.text
        assert answer.json()["text"] == "Sent."

        outgoing = urllib.parse.urlencode(
            {
                "token": MATTERMOST_TOKEN,
                "trigger_word": "causerie",
                "text": f"causerie {conversation_id} Anything else?",
            }
        )
        form = {"content-type": "application/x-www-form-urlencoded"}
        assert (
            http.post("/plugins/chat-bridge/command", content=outgoing, headers=form).json()["text"]
            == "Sent."
        )
        forged = outgoing.replace(MATTERMOST_TOKEN, "guess")
        assert (
            http.post("/plugins/chat-bridge/command", content=forged, headers=form).status_code
            == 401
        )

        messages = http.get("/api/widget/v1/session/messages", headers=visitor).json()["messages"]
        assert [(m["author"], m["body"]) for m in messages] == [
            ("visitor", "Do you ship to Lyon?"),
            ("operator", "Yes, in two days."),
            ("operator", "Anything else?"),
        ]
    # The agents' answers are not echoed to the tool: only visitors' messages go there.
    assert len(receiver.requests) == 2


def test_installed_plugins_are_found_through_their_entry_points(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An installed distribution declaring `causerie.plugins` is loaded under its entry point's
    name; the examples' own pyproject.toml declare theirs so."""
    (tmp_path / "causerie_probe.py").write_text(
        "from causerie.plugins import hookimpl\n"
        "class Probe:\n"
        "    @hookimpl\n"
        "    def causerie_recipients(self):\n"
        "        return ['probe: installed']\n"
        "plugin = Probe()\n"
    )
    info = tmp_path / "causerie_probe-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: causerie-probe\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[causerie.plugins]\nprobe = causerie_probe:plugin\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    plugins = load_plugins()
    assert "probe" in plugins.names
    assert plugins.recipients() == ["probe: installed"]

    for folder, name in (("away_reply", "away-reply"), ("chat_bridge", "chat-bridge")):
        project = tomllib.loads((EXAMPLES / folder / "pyproject.toml").read_text())["project"]
        target = project["entry-points"]["causerie.plugins"][name]
        module, _, attribute = target.partition(":")
        assert getattr(importlib.import_module(module), attribute) is not None


class Ticket:
    """Declares `{ticket}` for canned replies, valued per conversation, and gives a value it
    does not declare (never answered: a reply cannot hold it)."""

    @hookimpl
    def causerie_reply_variable_names(self) -> list[str]:
        return ["ticket"]

    @hookimpl
    def causerie_reply_variables(self, conversation: Any) -> dict[str, str]:
        return {"ticket": f"T-{conversation.id[:6]}", "undeclared": "x"}


def test_a_plugins_reply_variable_is_saved_and_valued_per_conversation_over_the_api(
    settings: Settings, harness: Harness, site: Site, clock: ManualClock
) -> None:
    server = ServerThread(settings, clock, [("ticket", Ticket())])
    try:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            admin, agent = As(http, site, "admin"), As(http, site, "agent")
            other = As(http, site, "other_owner")
            replies = f"/websites/{site.website_id}/replies"
            reply = {"shortcut": "t", "title": "Ticket", "body": "{visitor_name}: {ticket}"}
            made = admin.ok(admin.post(replies, reply), 201)["reply"]
            assert made["body"] == "{visitor_name}: {ticket}"
            for body in ("{undeclared}", "{tickets}"):
                refused = admin.post(replies, {**reply, "shortcut": "u", "body": body})
                assert error_of(refused, 422)["code"] == "unknown_variable"
                assert "{ticket}" in error_of(refused, 422)["message"]
            patched = admin.patch(f"{replies}/{made['id']}", {"body": "{ticket} {website}"})
            assert admin.ok(patched)["reply"]["body"] == "{ticket} {website}"

            mine = chat(http, site.website_id, "hello").conversation_id
            theirs = chat(http, site.other_website_id, "hi", origin=OTHER_ORIGIN).conversation_id
            assert mine and theirs
            path = "/conversations/{}/reply-variables"
            answer = agent.ok(agent.get(path.format(mine)))
            assert answer == {"variables": {"ticket": f"T-{mine[:6]}"}}
            assert other.ok(other.get(path.format(theirs)))["variables"]["ticket"] == (
                f"T-{theirs[:6]}"
            )
            for who, conversation_id in ((agent, theirs), (other, mine), (agent, "nope")):
                missing = error_of(who.get(path.format(conversation_id)), 404)
                assert missing["code"] == "conversation_not_found"
    finally:
        server.stop()
