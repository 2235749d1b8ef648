"""What a visitor types, as agents are shown it (docs/api.md, "Visitor texts"): control
characters (C0 but tab and line breaks, DEL, C1: ESC sequences pasted from a terminal, a bell)
are dropped from a message, over HTTP and the socket alike; a nickname loses every control and
the bidi marks, embeddings, overrides and isolates, as a file's name does (audit9), so that
U+202E cannot turn the name an agent reads around. A message keeps its bidi marks: right-to-left
languages need them."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Harness, ServerThread, Site
from tests.live import visitor
from tests.test_errors import error_of
from tests.test_profile import patch
from tests.test_session_endpoint import open_session, send

SHALOM = "\u05e9\u05dc\u05d5\u05dd"  # Hebrew, right to left
TYPED = f"Hello\x1b[31m red\x07\x7f\x85 world\t!\r\n{SHALOM} \u200f(\u202eabc\u202c)\x0c"
STORED = f"Hello[31m red world\t!\r\n{SHALOM} \u200f(\u202eabc\u202c)"


@pytest.fixture
def token(http: httpx.Client, site: Site) -> str:
    token: str = open_session(http, site.website_id).json()["token"]
    return token


def _bodies(harness: Harness) -> list[str]:
    return [str(r[0]) for r in harness.rows("SELECT body FROM messages ORDER BY seq")]


def test_control_characters_are_dropped_from_a_visitors_message_on_both_paths(
    http: httpx.Client, harness: Harness, server: ServerThread, token: str
) -> None:
    sent = send(http, token, TYPED)
    assert sent.status_code == 201, sent.text
    assert sent.json()["message"]["body"] == STORED
    live, _ = visitor(server.url, token)
    try:
        live.send({"type": "message.send", "client_id": "w1", "body": TYPED})
        live.expect("message.ack", client_id="w1")
        live.send({"type": "message.send", "client_id": "w2", "body": "\x1b\x07\x9b"})
        assert live.expect("error", client_id="w2")["code"] == "empty_message"
    finally:
        live.close()
    assert _bodies(harness) == [STORED, STORED]
    assert error_of(send(http, token, "\x1b\x08", "c3"), 422)["code"] == "empty_message"


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("Ada\u202eecalovoL", "AdaecalovoL"),  # the override would show "Ada Lovelace" reversed
        ("\u2067Ada\u2069 \u200fL.\u200e", "Ada L."),
        ("Ada\x1b[2J\x07", "Ada[2J"),
        ("Ada\nLovelace\tII", "Ada Lovelace II"),
        ("زينب", "زينب"),  # right-to-left by its letters alone
    ],
)
def test_a_visitors_nickname_loses_controls_and_bidi_characters(
    http: httpx.Client, harness: Harness, token: str, typed: str, kept: str
) -> None:
    answer = patch(http, token, {"nickname": typed})
    assert answer.status_code == 200, answer.text
    assert answer.json()["session"]["profile"]["nickname"] == kept
    assert harness.rows("SELECT nickname FROM sessions") == [(kept,)]


def test_a_nickname_of_only_controls_and_bidi_characters_is_no_nickname(
    http: httpx.Client, harness: Harness, token: str
) -> None:
    assert patch(http, token, {"nickname": "\u202e\x1b\u2066"}).status_code == 200
    assert harness.rows("SELECT nickname FROM sessions") == [(None,)]
