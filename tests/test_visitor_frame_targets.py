"""What a visitor's frames may name (SPEC.md "WebSocket"; docs/realtime.md "Frames"): a visitor
writes, types and reads in their own conversation only. `message.send` refused another
`conversation_id`; `typing` and `read` did not look at it (a typing frame naming someone else's
conversation was taken, a read answered as if it named the visitor's own)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import Harness, ServerThread, Site
from tests.live import Live, agent, visitor
from tests.test_session_endpoint import open_session


@pytest.fixture
def chat(server: ServerThread, http: httpx.Client, site: Site) -> Iterator[tuple[Live, str, str]]:
    """A visitor's socket, their conversation's id and their first message's id."""
    token = open_session(http, site.website_id).json()["token"]
    live, _ = visitor(server.url, token)
    live.send({"type": "message.send", "client_id": "first", "body": "hello"})
    message = live.expect("message.ack", client_id="first")["message"]
    yield live, message["conversation_id"], message["id"]
    live.close()


def _other_conversation(server: ServerThread, http: httpx.Client, site: Site) -> str:
    token = open_session(http, site.website_id).json()["token"]
    other, _ = visitor(server.url, token)
    other.send({"type": "message.send", "client_id": "other", "body": "me too"})
    conversation_id: str = other.expect("message.ack", client_id="other")["message"][
        "conversation_id"
    ]
    other.close()
    return conversation_id


@pytest.mark.parametrize(
    ("frame", "field"),
    [
        ({"type": "typing", "on": True}, "typing.conversation_id"),
        ({"type": "read", "up_to": "MESSAGE"}, "read.conversation_id"),
    ],
    ids=["typing", "read"],
)
def test_a_visitor_frame_naming_another_conversation_is_invalid_frame_and_does_nothing(
    chat: tuple[Live, str, str],
    server: ServerThread,
    http: httpx.Client,
    site: Site,
    harness: Harness,
    frame: dict[str, Any],
    field: str,
) -> None:
    live, _, message_id = chat
    other_id = _other_conversation(server, http, site)
    inbox, _ = agent(server.url, site.tokens["agent"], site.website_id)
    sent = {k: message_id if v == "MESSAGE" else v for k, v in frame.items()}
    for named in (other_id, "no-such-conversation"):
        live.send({**sent, "conversation_id": named})
        error = live.expect("error")
        assert error["code"] == "invalid_frame", error
        assert error["message"].startswith(f"{field}: "), error
        assert "own conversation" in error["message"], error
    live.barrier()
    # Nothing was acted on: no typing reached the agents, no read mark was stored.
    inbox.barrier()
    assert not [f for f in inbox.seen if f["type"] in ("typing", "read")], inbox.seen
    assert (
        harness.scalar("SELECT count(*) FROM conversations WHERE visitor_read_up_to IS NOT NULL")
        == 0
    )
    inbox.close()


def test_a_visitor_may_name_their_own_conversation_in_typing_and_read(
    chat: tuple[Live, str, str], server: ServerThread, site: Site, harness: Harness
) -> None:
    """As in `message.send`: the field names the visitor's own conversation, or is left out."""
    live, conversation_id, message_id = chat
    inbox, _ = agent(server.url, site.tokens["agent"], site.website_id)
    live.send({"type": "typing", "on": True, "conversation_id": conversation_id})
    assert inbox.expect("typing", conversation_id=conversation_id)["on"] is True
    live.send({"type": "read", "up_to": message_id, "conversation_id": conversation_id})
    assert inbox.expect("read", conversation_id=conversation_id)["up_to"] == message_id
    assert not [f for f in live.barrier() if f["type"] == "error"]
    inbox.close()
