"""The shield's automatic defence and limits, at the action level (P18): a network over the
challenge rate must solve a proof of work per new session; one that does not, or floods, is
blocked until its score decays; a busy office behind one address that solves its challenges and
chats like people is never blocked. Known crawlers get no session; the honeypot flags bots.
The clock is the test's; the databases are SQLite only here (the SQL is the repositories')."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from causerie.actions import shield
from causerie.actions.limits import check_login_rate, check_upload_rate
from causerie.actions.messages import do_send_session_message
from causerie.actions.profiles import do_update_visitor_profile
from causerie.actions.sessions import OpenedSession, do_open_session
from causerie.actions.shield import Challenged
from causerie.actions.websites import do_create_website
from causerie.clock import ManualClock
from causerie.domain.errors import Forbidden, RateLimited
from causerie.domain.models import Actor, PageView
from causerie.domain.shield import (
    check_solution,
    leading_zero_bits,
    network_key,
    opening_key,
    solve,
)
from causerie.settings import Settings
from tests.conftest import ORIGIN, Harness


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: the SQL here is the repositories', tested on both databases elsewhere."""
    return f"sqlite:///{tmp_path / 'causerie.db'}"


BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0"
OFFICE = "203.0.113.10"


@pytest.fixture
def make_harness(
    make_settings: Callable[..., Settings], clock: ManualClock
) -> Iterator[Callable[..., tuple[Harness, str]]]:
    made: list[Harness] = []

    def make(**overrides: str) -> tuple[Harness, str]:
        # The server's own challenge rate and pace sign, which tests/limits.py relaxes for other
        # tests.
        values = {
            "shield_challenge_bits": "6",
            "shield_challenge_rate": "30/m",
            "shield_hasty_delay": "2s",
            **overrides,
        }
        harness = Harness(make_settings(**values), clock)
        made.append(harness)
        website = harness.run(do_create_website(harness.rt, Actor.cli(), "Shop", [ORIGIN]))
        return harness, website.id

    yield make
    for harness in made:
        harness.close()


def _open(
    harness: Harness,
    website_id: str,
    ip: str,
    *,
    proof: tuple[str, str] | None = None,
    honeypot: bool = False,
    user_agent: str = BROWSER,
    token: str | None = None,
) -> OpenedSession:
    return harness.run(
        do_open_session(
            harness.rt,
            website_id=website_id,
            token=token,
            page=PageView(url=f"{ORIGIN}/", user_agent=user_agent),
            ip=ip,
            origin=ORIGIN,
            proof=proof,
            honeypot=honeypot,
        )
    )


def _open_as_a_browser(harness: Harness, website_id: str, ip: str) -> tuple[OpenedSession, bool]:
    """What the chatbox does: load; when challenged, solve and load again. (session, challenged)"""
    try:
        return _open(harness, website_id, ip), False
    except Challenged as challenged:
        nonce, bits = challenged.challenge.nonce, challenged.challenge.bits
        return _open(harness, website_id, ip, proof=(nonce, solve(nonce, bits))), True


def _say(harness: Harness, opened: OpenedSession, n: int) -> None:
    assert opened.session is not None
    harness.run(
        do_send_session_message(harness.rt, opened.session.id, client_id=f"c{n}", body="hello")
    )


def test_p18_a_busy_office_behind_one_address_chatting_like_people_is_never_blocked(
    make_harness: Callable[..., tuple[Harness, str]], clock: ManualClock
) -> None:
    """240 colleagues behind one address open the chatbox over six minutes, 40 a minute (past
    the challenge rate of 30), and each writes three messages at a person's pace."""
    harness, website_id = make_harness(
        address_session_rate="60/m", message_rate="30/m", network_message_rate="600/m"
    )
    challenged = 0
    for minute in range(6):
        people = []
        for _ in range(40):
            opened, was = _open_as_a_browser(harness, website_id, OFFICE)
            challenged += was
            people.append(opened)
            clock.advance(timedelta(seconds=1))
        for n in range(3):
            for opened in people:
                _say(harness, opened, n)
            clock.advance(timedelta(seconds=5))
        assert harness.scalar("SELECT count(*) FROM sessions") == 40 * (minute + 1)
    assert challenged > 0  # the office was over the challenge rate, and solved them unseen
    assert harness.scalar("SELECT count(*) FROM messages") == 240 * 3
    score = harness.run(
        shield.score_of(harness.rt, network_key(harness.settings.secret_key, OFFICE))
    )
    assert score < harness.settings.shield_block_score * shield.SUSPECT


def test_p18_a_flood_is_challenged_then_blocked_and_the_block_decays(
    make_harness: Callable[..., tuple[Harness, str]], clock: ManualClock
) -> None:
    harness, website_id = make_harness(address_session_rate="100000/m")
    bots = [f"198.51.100.{i}" for i in range(1, 101)]
    outcomes: list[str] = []
    for n in range(120):
        try:
            _open(harness, website_id, bots[n % len(bots)])
            outcomes.append("session")
        except Challenged:
            outcomes.append("challenge")
        except Forbidden as exc:
            assert exc.code == "blocked"
            outcomes.append("blocked")
    # The challenge rate's burst (30) goes through; then challenges until the score (one per
    # unanswered challenge) reaches the block score (20); then blocked.
    assert outcomes[:30] == ["session"] * 30
    assert outcomes[30:50] == ["challenge"] * 20
    assert set(outcomes[50:]) == {"blocked"}
    # Another network is not concerned.
    assert _open(harness, website_id, "192.0.2.1").created
    # A solution does not lift the block.
    with pytest.raises(Forbidden):
        _open_as_a_browser(harness, website_id, bots[0])
    # The score halves every 10 minutes: blocked a while after the flood stops, then not.
    clock.advance(timedelta(minutes=2))
    with pytest.raises(Forbidden):
        _open(harness, website_id, bots[0])
    clock.advance(timedelta(minutes=20))  # below the block score, still suspect
    opened, challenged = _open_as_a_browser(harness, website_id, bots[0])
    assert opened.created and challenged  # a proof of work first
    clock.advance(timedelta(hours=1))  # forgotten
    assert _open(harness, website_id, bots[1]).created


def test_p18_sessions_writing_faster_than_people_type_get_their_network_challenged_then_blocked(
    make_harness: Callable[..., tuple[Harness, str]], clock: ManualClock
) -> None:
    """A botnet spread thin (bench/botnet.py): each network opens a few sessions a minute, far
    below the challenge rate, and each session writes a screenful at once. The message past the
    session's burst is refused, and weighs as much as a wrong proof: after three such sessions
    the network's new sessions must solve a challenge; left unanswered, it is blocked, its
    existing sessions included. One person typing fast in another network is refused the
    surplus and nothing more."""
    harness, website_id = make_harness(
        address_session_rate="60/m", message_rate="30/m", network_message_rate="600/m"
    )
    burst = 10  # 20 seconds' worth of 30 a minute
    for n in range(3):
        opened = _open(harness, website_id, f"198.51.100.{n + 1}")
        for m in range(burst):
            _say(harness, opened, m)
        with pytest.raises(RateLimited):
            _say(harness, opened, burst)
        clock.advance(timedelta(seconds=20))
    with pytest.raises(Challenged):
        _open(harness, website_id, "198.51.100.50")
    outcomes = []
    for n in range(20):
        try:
            _open(harness, website_id, f"198.51.100.{60 + n}")
            outcomes.append("session")
        except Challenged:
            outcomes.append("challenge")
        except Forbidden:
            outcomes.append("blocked")
    assert "session" not in outcomes and outcomes[-1] == "blocked"
    with pytest.raises(Forbidden):  # a session opened before the block writes no more
        _say(harness, opened, burst + 1)

    person = _open(harness, website_id, OFFICE)
    for m in range(burst):
        _say(harness, person, m)
    with pytest.raises(RateLimited):
        _say(harness, person, burst)
    clock.advance(timedelta(seconds=2))  # the chatbox sends it again after `retry_after`
    _say(harness, person, burst)
    colleague, challenged = _open_as_a_browser(harness, website_id, "203.0.113.11")
    assert colleague.created and not challenged


def _open_with(harness: Harness, website_id: str, ip: str, body: str) -> OpenedSession:
    """A new session whose conversation opens with `body`, its opening counted."""
    opened = _open(harness, website_id, ip)
    assert opened.session is not None
    harness.run(do_send_session_message(harness.rt, opened.session.id, client_id="c0", body=body))
    harness.run(shield.flushed())
    return opened


def test_p18_a_campaign_pasting_one_text_is_challenged_however_slowly_it_writes(
    make_harness: Callable[..., tuple[Harness, str]], clock: ManualClock
) -> None:
    """A botnet that writes at a person's pace, one message a session, each network below every
    rate, still pastes one text into every conversation. Past five conversations of the website
    opening with it in ten minutes (case, spacing and punctuation aside), each further one
    raises its network's score: after three, that network's new sessions must solve a
    challenge. People's own questions, and the greetings everyone types, raise nothing."""
    harness, website_id = make_harness()
    secret = harness.settings.secret_key
    spam = "Buy cheap watches at shop dot example"
    for n in range(5):  # the first five could be anyone's: nothing is said of them
        _open_with(harness, website_id, f"198.51.{n}.7", spam)
        clock.advance(timedelta(seconds=30))
    assert harness.run(shield.score_of(harness.rt, network_key(secret, "198.51.0.7"))) == 0
    for n in range(3):
        _open_with(
            harness,
            website_id,
            f"192.0.2.{n + 1}",
            f"  BUY cheap watches, at shop dot example{'!' * n}",
        )
        clock.advance(timedelta(seconds=30))
    with pytest.raises(Challenged):
        _open(harness, website_id, "192.0.2.50")

    for n in range(40):  # people: greetings alike, questions their own, at the same pace
        _open_with(harness, website_id, f"203.0.{n}.9", "Hello there!")
        _open_with(harness, website_id, f"203.1.{n}.9", f"Where is my order number {n}, please?")
        clock.advance(timedelta(seconds=5))
    for n in range(40):
        for ip in (f"203.0.{n}.9", f"203.1.{n}.9"):
            assert harness.run(shield.score_of(harness.rt, network_key(secret, ip))) == 0
    colleague, challenged = _open_as_a_browser(harness, website_id, "203.0.0.10")
    assert colleague.created and not challenged


def test_p18_an_opening_is_counted_by_a_keyed_hash_of_its_words_never_its_text() -> None:
    key = opening_key("secret", "site", "Buy cheap watches at shop dot example")
    assert key is not None and "watches" not in key and len(key) == 32
    assert opening_key("secret", "site", "buy CHEAP watches, at shop-dot-example!") == key
    assert opening_key("other secret", "site", "Buy cheap watches at shop dot example") != key
    assert opening_key("secret", "other site", "Buy cheap watches at shop dot example") != key
    assert opening_key("secret", "site", "Hello there!") is None  # two words
    assert opening_key("secret", "site", "is it on") is None  # too few letters to be a sign


def test_p18_a_proof_serves_one_session_of_its_own_network_while_fresh(
    make_harness: Callable[..., tuple[Harness, str]], clock: ManualClock
) -> None:
    harness, website_id = make_harness(shield_challenge_rate="1/m")
    ip = "198.51.100.7"
    _open(harness, website_id, ip)
    with pytest.raises(Challenged) as caught:
        _open(harness, website_id, ip)
    nonce, bits = caught.value.challenge.nonce, caught.value.challenge.bits
    solution = solve(nonce, bits)
    secret = harness.settings.secret_key
    network = network_key(secret, ip)
    assert check_solution(secret, network, clock.now(), nonce, solution, bits)
    assert not check_solution(
        secret, network_key(secret, "192.0.2.1"), clock.now(), nonce, solution, bits
    )
    assert not check_solution(
        secret, network, clock.now() + timedelta(minutes=6), nonce, solution, bits
    )
    wrong = next(
        str(n)
        for n in range(1000)
        if not check_solution(secret, network, clock.now(), nonce, str(n), bits)
    )
    with pytest.raises(Challenged):
        _open(harness, website_id, ip, proof=(nonce, wrong))
    assert _open(harness, website_id, ip, proof=(nonce, solution)).created
    with pytest.raises(Challenged):  # used once
        _open(harness, website_id, ip, proof=(nonce, solution))
    forged = f"{nonce.split('.')[0]}.1.{nonce.split('.')[2]}"  # an easier difficulty, unsigned
    with pytest.raises(Challenged):
        _open(harness, website_id, ip, proof=(forged, solve(forged, 1)))


def test_p18_known_crawlers_load_the_chatbox_without_a_session(
    make_harness: Callable[..., tuple[Harness, str]],
) -> None:
    harness, website_id = make_harness()
    for agent in (
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "facebookexternalhit/1.1",
    ):
        opened = _open(harness, website_id, "192.0.2.50", user_agent=agent)
        assert opened.session is None and opened.token == "" and not opened.created
    assert harness.scalar("SELECT count(*) FROM sessions") == 0
    assert _open(harness, website_id, "192.0.2.50").created  # a browser gets its session


def test_p18_the_honeypot_flags_a_simple_bot_and_raises_its_network_score(
    make_harness: Callable[..., tuple[Harness, str]],
) -> None:
    harness, website_id = make_harness()
    with pytest.raises(Forbidden) as caught:
        _open(harness, website_id, "198.51.100.9", honeypot=True)
    assert caught.value.code == "blocked"
    assert harness.scalar("SELECT count(*) FROM sessions") == 0
    network = network_key(harness.settings.secret_key, "198.51.100.200")
    assert harness.run(shield.score_of(harness.rt, network)) == pytest.approx(shield.SCORE_HONEYPOT)
    # Suspect now: the next new session of that network must solve a challenge first.
    with pytest.raises(Challenged):
        _open(harness, website_id, "198.51.100.200")


def test_token_buckets_per_address_network_website_session_upload_and_login(
    make_harness: Callable[..., tuple[Harness, str]], clock: ManualClock
) -> None:
    harness, website_id = make_harness(
        address_session_rate="3/m",
        new_session_rate="10/m",  # a bound on every minute: 5 at once
        website_session_rate="8/m",
        shield_challenge_rate="100000/m",
        message_rate="12/m",
        network_message_rate="6/m",
        profile_rate="2/m",
        upload_rate="2/m",
        network_upload_rate="3/m",
        login_rate="2/m",
        shield_hasty_delay="0",  # its sessions write the instant they open: not this test's sign
    )
    rt = harness.rt
    # Per address: 3, then 429 with the wait until a token is back (20 s at 3 a minute).
    first = [_open(harness, website_id, "192.0.2.1") for _ in range(3)]
    with pytest.raises(RateLimited) as caught:
        _open(harness, website_id, "192.0.2.1")
    assert caught.value.retry_after == 20
    # Per network: two more addresses of the /24 get 2 between them.
    _open(harness, website_id, "192.0.2.2")
    _open(harness, website_id, "192.0.2.3")
    with pytest.raises(RateLimited):
        _open(harness, website_id, "192.0.2.4")
    # Per website: 3 more from other networks, then none.
    for n in range(3):
        _open(harness, website_id, f"198.51.{n}.1")
    with pytest.raises(RateLimited):
        _open(harness, website_id, "198.51.9.1")
    # A renewal is no new session: never counted.
    assert not _open(harness, website_id, "192.0.2.1", token=first[0].token).created

    # Messages: 4 per session, 6 per network.
    for n in range(4):
        _say(harness, first[0], n)
    with pytest.raises(RateLimited):
        _say(harness, first[0], 4)
    _say(harness, first[1], 0)
    _say(harness, first[1], 1)
    with pytest.raises(RateLimited):
        _say(harness, first[2], 0)  # the network's 6 are spent
    # Profile updates: 2 per session.
    for _ in range(2):
        harness.run(
            do_update_visitor_profile(rt, token=first[2].token, origin=ORIGIN, nickname="Ada")
        )
    with pytest.raises(RateLimited):
        harness.run(
            do_update_visitor_profile(rt, token=first[2].token, origin=ORIGIN, nickname="Bo")
        )
    # Uploads (the files feature calls this): 2 per session, 3 per network.
    session_id = first[0].session.id if first[0].session else ""
    for _ in range(2):
        harness.run(check_upload_rate(rt, session_id, "192.0.2.1"))
    with pytest.raises(RateLimited):
        harness.run(check_upload_rate(rt, session_id, "192.0.2.1"))
    harness.run(check_upload_rate(rt, "another", "192.0.2.1"))
    with pytest.raises(RateLimited):
        harness.run(check_upload_rate(rt, "yet another", "192.0.2.9"))
    # Agent logins: 2 per address.
    harness.run(check_login_rate(rt, "192.0.2.77"))
    harness.run(check_login_rate(rt, "192.0.2.77"))
    with pytest.raises(RateLimited):
        harness.run(check_login_rate(rt, "192.0.2.77"))
    # A minute later each bucket is full again.
    clock.advance(timedelta(minutes=1))
    _say(harness, first[0], 4)
    assert _open(harness, website_id, "192.0.2.1").created
    harness.run(check_login_rate(rt, "192.0.2.77"))


def test_p18_counts_of_one_turn_share_one_task_and_every_one_is_kept(
    make_harness: Callable[..., tuple[Harness, str]], clock: ManualClock
) -> None:
    harness, _ = make_harness()
    rt, other = harness.rt, "198.51.100.7"

    async def burst() -> tuple[int, list[tuple[str, str, int]]]:
        for ip in [OFFICE] * 5 + [other] * 3 + ["not an address", ""]:
            shield.count(rt, ip, "loads")
        shield.count(rt, other, "sessions", 2)
        started = sum(1 for task in shield._tasks if not task.done())
        await shield.flushed()
        now = clock.now()
        rows = await rt.aggregates.read(now - timedelta(hours=1), now)
        return started, [(network, metric, n) for _, network, metric, n in rows]

    started, rows = harness.run(burst())
    assert started == 1
    secret = harness.settings.secret_key
    assert sorted(rows) == sorted(
        [
            (network_key(secret, OFFICE), "loads", 5),
            (network_key(secret, other), "loads", 3),
            (network_key(secret, other), "sessions", 2),
        ]
    )
    # And again, in a later turn: a new task takes them.
    harness.run(burst())
    now = clock.now()
    totals = harness.run(rt.aggregates.read(now - timedelta(hours=1), now))
    assert sorted(n for *_, n in totals) == [4, 6, 10]


def test_leading_zero_bits() -> None:
    assert leading_zero_bits(b"\x00\x00\x01") == 23
    assert leading_zero_bits(b"\x80") == 0
    assert leading_zero_bits(b"\x0f") == 4
