"""The shield's sign on time (P18): conversations started at a bot's pace, sooner after their
session opened than a person writes (`CAUSERIE_SHIELD_HASTY_DELAY`), more than
`CAUSERIE_SHIELD_HASTY_OPENINGS` of them from one network within `HASTY_WINDOW`, hold that
network within seconds, however few requests that is; people behind one address, however many,
are never held. In this process's counters and in Redis (shared by nodes); the clock is the
test's. The same on real servers: tests/test_shield_gate.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from causerie.actions import shield
from causerie.actions.messages import do_send_session_message
from causerie.actions.sessions import OpenedSession, do_open_session
from causerie.actions.shield import Challenged
from causerie.actions.websites import do_create_website
from causerie.clock import ManualClock
from causerie.domain.errors import Forbidden
from causerie.domain.models import Actor, PageView
from causerie.domain.shield import (
    HASTY_HOLD,
    HASTY_WINDOW,
    hold_score,
    is_hasty,
    network_key,
    solve,
)
from causerie.settings import Settings
from tests.conftest import ORIGIN, Harness
from tests.redis_support import shared_redis_url

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
OFFICE = "203.0.113.10"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: the SQL here is the repositories', tested on both databases elsewhere."""
    return f"sqlite:///{tmp_path / 'causerie.db'}"


@pytest.fixture(params=["memory", "redis"])
def harness(
    request: pytest.FixtureRequest, make_settings: Callable[..., Settings], clock: ManualClock
) -> Iterator[tuple[Harness, str]]:
    """A runtime with the server's own shield settings, counting in this process or in Redis."""
    values = {
        "shield_challenge_bits": "6",
        "shield_challenge_rate": "30/m",
        "shield_hasty_delay": "2s",
    }
    if request.param == "redis":
        values["redis_url"] = shared_redis_url()
    made = Harness(make_settings(**values), clock)
    website = made.run(do_create_website(made.rt, Actor.cli(), "Shop", [ORIGIN]))
    yield made, website.id
    made.close()


def _open(
    harness: Harness, website_id: str, ip: str, proof: tuple[str, str] | None = None
) -> OpenedSession:
    return harness.run(
        do_open_session(
            harness.rt,
            website_id=website_id,
            token=None,
            page=PageView(url=f"{ORIGIN}/", user_agent=BROWSER),
            ip=ip,
            origin=ORIGIN,
            proof=proof,
        )
    )


def _open_as_a_browser(harness: Harness, website_id: str, ip: str) -> OpenedSession:
    """What the chatbox does: load; when challenged, solve and load again."""
    try:
        return _open(harness, website_id, ip)
    except Challenged as challenged:
        nonce, bits = challenged.challenge.nonce, challenged.challenge.bits
        return _open(harness, website_id, ip, proof=(nonce, solve(nonce, bits)))


def _say(harness: Harness, opened: OpenedSession, n: int, body: str = "hello") -> None:
    assert opened.session is not None
    harness.run(
        do_send_session_message(harness.rt, opened.session.id, client_id=f"c{n}", body=body)
    )
    harness.run(shield.flushed())  # the signs are noted beside the message


def _score(harness: Harness, ip: str) -> float:
    network = network_key(harness.settings.secret_key, ip)
    return harness.run(shield.score_of(harness.rt, network))


def test_is_hasty_and_the_hold_score() -> None:
    opened = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    assert is_hasty(opened, opened + timedelta(seconds=1.9), 2.0)
    assert not is_hasty(opened, opened + timedelta(seconds=2), 2.0)
    assert not is_hasty(opened, opened, 0.0)  # the sign off
    # 20 x 2^(30 s / 600 s): decays to the block score in 30 s.
    score = hold_score(20, timedelta(minutes=10), timedelta(seconds=30))
    assert score * 0.5 ** (30 / 600) == pytest.approx(20)


def test_p18_a_network_starting_conversations_at_a_bots_pace_is_held_within_seconds(
    harness: tuple[Harness, str], clock: ManualClock
) -> None:
    """A flood from one network, a session a second, each writing at once (bench/botnet.py):
    far below the challenge rate, every message within its session's burst. The second
    conversation started within the window holds the network: from the third second its new
    sessions and the messages of the sessions it opened before are refused; for `HASTY_HOLD`
    at least, longer while it persists, and it is suspect long after. Another network is not
    concerned."""
    rt, website_id = harness
    block = rt.settings.shield_block_score
    opened: list[OpenedSession] = []
    for n in range(2):
        opened.append(_open(rt, website_id, f"198.51.100.{n + 1}"))
        clock.advance(timedelta(milliseconds=200))
        _say(rt, opened[-1], 0, "buy cheap watches")
        clock.advance(timedelta(milliseconds=800))
    assert _score(rt, "198.51.100.1") >= block  # 2 s of the flood, 2 sessions, 2 messages
    with pytest.raises(Forbidden) as refused:
        _open(rt, website_id, "198.51.100.4")
    assert refused.value.code == "blocked"
    with pytest.raises(Forbidden):  # a session opened before writes no more
        _say(rt, opened[0], 1)
    person = _open(rt, website_id, "192.0.2.1")
    clock.advance(timedelta(seconds=5))
    _say(rt, person, 0)

    clock.advance(HASTY_HOLD)  # persisting (the two refusals) kept it past the hold
    with pytest.raises(Forbidden):
        _open(rt, website_id, "198.51.100.5")
    clock.advance(timedelta(minutes=2))  # stopped: below the block score, suspect
    with pytest.raises(Challenged):
        _open(rt, website_id, "198.51.100.6")


def test_p18_one_hasty_opening_a_window_holds_nothing(
    harness: tuple[Harness, str], clock: ManualClock
) -> None:
    """Up to `CAUSERIE_SHIELD_HASTY_OPENINGS` in a window say nothing: a quick "hi" as the
    chatbox opens, or a website's own script sending a message as its page loads. The windows
    do not add up, and an opening that comes later is no sign at all."""
    rt, website_id = harness
    for n in range(12):
        session = _open(rt, website_id, f"198.51.100.{n + 1}")
        _say(rt, session, 0)
        clock.advance(HASTY_WINDOW)
    for n in range(5):
        session = _open(rt, website_id, f"198.51.100.{n + 20}")
        clock.advance(timedelta(seconds=2))
        _say(rt, session, 0)
    assert _score(rt, "198.51.100.1") == 0
    assert _open(rt, website_id, "198.51.100.50").created


def test_p18_many_people_behind_one_address_arriving_at_a_human_pace_are_never_held(
    harness: tuple[Harness, str], clock: ManualClock
) -> None:
    """120 colleagues behind one address open the chatbox over three minutes, one every 1.5 s
    (40 a minute: past the challenge rate, which their browsers solve unseen), and each starts
    a conversation 3 to 30 s later; one in ten within a second (a quick "hi" as the chatbox
    opens). They all write, nobody is refused, and the network stays below suspect."""
    rt, website_id = harness
    events: list[tuple[float, int, str]] = []  # (seconds from start, person, what)
    for person in range(120):
        opened_at = person * 1.5
        delay = 0.8 if person % 10 == 0 else 3 + (person * 7) % 28
        events += [(opened_at, person, "open"), (opened_at + delay, person, "say")]
        events.append((opened_at + delay + 20, person, "say again"))
    sessions: dict[int, OpenedSession] = {}
    elapsed = 0.0
    for at, person, what in sorted(events):
        clock.advance(timedelta(seconds=at - elapsed))
        elapsed = at
        if what == "open":
            sessions[person] = _open_as_a_browser(rt, website_id, OFFICE)
        else:
            _say(rt, sessions[person], 0 if what == "say" else 1)
    assert rt.scalar("SELECT count(*) FROM conversations") == 120
    assert rt.scalar("SELECT count(*) FROM messages") == 240
    assert _score(rt, OFFICE) < rt.settings.shield_block_score * shield.SUSPECT
