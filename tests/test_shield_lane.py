"""The shield gate under a flood (P18, web/shield_gate.py).

The lane: while a node is busy, the chatbox requests of a network sending much wait for a few
places of their own, and a person's request goes first; a node that is not busy orders nothing,
and nothing is ever refused by the lane. The pause: a network held blocked gets its refusal after
`CAUSERIE_SHIELD_REFUSAL_PAUSE`, at most `paused_at_most` of them waiting at once, and a person's
request is not held behind them.

The gate runs on a real runtime, in front of an endpoint that holds each request until the test
lets it answer, and with a pause that ends when the test ends it, so the order in which requests
reach it and are answered is exact; the clock is the test's."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from starlette.datastructures import State

from causerie.actions import shield
from causerie.clock import ManualClock
from causerie.domain.errors import Forbidden
from causerie.domain.pace import Pace
from causerie.settings import Settings
from causerie.web.shield_gate import ARRIVED, ShieldGate
from tests.conftest import Harness

BOT = "198.51.100.7"
PERSON = "203.0.113.5"
LOAD = "/api/widget/v1/websites/w1/session"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'causerie.db'}"


class Endpoint:
    """Records which request reached it, and answers each when told to."""

    def __init__(self) -> None:
        self.reached: list[str] = []
        self.go = asyncio.Event()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.reached.append(scope["name"])
        await self.go.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})


def _request(
    app: Any, gate: ShieldGate, ip: str, name: str, kind: str = "http"
) -> asyncio.Task[list[Any]]:
    scope = {
        "type": kind,
        "method": "POST",
        "path": LOAD if kind == "http" else "/ws/visitor",
        "headers": [],
        "client": (ip, 40000),
        "app": app,
        "name": name,
    }
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        if kind == "websocket":
            return {"type": "websocket.connect"}
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    async def call() -> list[Any]:
        await gate(scope, receive, send)
        return sent

    return asyncio.get_running_loop().create_task(call())


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_p18_a_busy_node_lets_a_person_pass_the_network_that_sends_much(harness: Harness) -> None:
    app = SimpleNamespace(state=State({"rt": harness.rt}))
    assert harness.rt.settings.shield_busy_rate == 2.0

    async def scenario() -> tuple[list[str], list[str], int]:
        endpoint = Endpoint()
        gate = ShieldGate(endpoint, busy=2)
        # Two requests under way: not busy yet, nothing is looked at.
        tasks = [_request(app, gate, BOT, f"bot{n}") for n in range(2)]
        # Busy: the network's pace builds with each of its requests (2 a second is about six
        # within its two seconds' half-life), then its requests take the lane's two places...
        tasks += [_request(app, gate, BOT, f"bot{n}") for n in range(2, 12)]
        await _settle()
        before_person = list(endpoint.reached)
        # ...and a person, sending little, goes straight to the endpoint past the waiting ones.
        tasks.append(_request(app, gate, PERSON, "person"))
        await _settle()
        reached = list(endpoint.reached)
        endpoint.go.set()
        answers = await asyncio.gather(*tasks)
        return before_person, reached, sum(a[0]["status"] == 200 for a in answers)

    before_person, reached, answered = harness.run(scenario())
    # bot0-bot1 (not busy), bot2-bot6 (pace under 2/s), bot7-bot8 in the lane's places
    assert before_person == [f"bot{n}" for n in range(9)]
    assert reached == [*before_person, "person"]  # bot9-bot11 still wait for a place
    assert answered == 13  # the lane refuses nothing: every request is answered


def test_p18_a_request_that_waited_in_the_lane_carries_when_it_came_in(harness: Harness) -> None:
    """A message's pace is its sender's (the shield's conversations started at a bot's pace,
    `actions/messages.py`): a request that waited in the lane reaches the route with the time it
    came in; one that waited for nothing carries none (the route's own time is then right)."""
    app = SimpleNamespace(state=State({"rt": harness.rt}))
    came_in = harness.rt.clock.now()
    carried: dict[str, object] = {}

    class Recording(Endpoint):
        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            carried[scope["name"]] = scope.get(ARRIVED)
            await super().__call__(scope, receive, send)

    async def scenario() -> None:
        endpoint = Recording()
        gate = ShieldGate(endpoint, busy=2)
        tasks = [_request(app, gate, BOT, f"bot{n}") for n in range(12)]
        await _settle()
        harness.rt.clock.advance(timedelta(seconds=3))  # bot9-bot11 wait for a place meanwhile
        endpoint.go.set()
        await asyncio.gather(*tasks)

    harness.run(scenario())
    assert carried["bot0"] is None and carried["bot6"] is None  # straight to the endpoint
    assert carried["bot7"] == carried["bot11"] == came_in  # in the lane: when they came in


def test_p18_a_node_that_is_not_busy_orders_nothing(harness: Harness) -> None:
    app = SimpleNamespace(state=State({"rt": harness.rt}))

    async def scenario() -> tuple[list[str], int]:
        endpoint = Endpoint()
        gate = ShieldGate(endpoint, busy=2)
        for n in range(15):  # two at a time: never more than the node's `busy` under way
            tasks = [_request(app, gate, BOT, f"bot{2 * n + k}") for k in range(2)]
            await _settle()
            endpoint.go.set()
            await asyncio.gather(*tasks)
            endpoint.go.clear()
        return endpoint.reached, len(gate.pace._seen)

    reached, paced = harness.run(scenario())
    assert reached == [f"bot{n}" for n in range(30)]
    assert paced == 0  # not even looked at: no address read, no pace kept


def test_pace_is_requests_per_second_halving_with_quiet() -> None:
    pace = Pace(half_life=2.0)
    for n in range(200):  # ten a second for twenty seconds
        rate = pace.hit("net", n / 10)
    assert 9.5 < rate < 10.5
    assert pace.hit("net", 19.9 + 2 * 2.0) < rate / 4 + 0.5  # two half-lives of quiet
    assert pace.hit("other", 0.0) == pytest.approx(0.3466, abs=1e-3)  # one request: ln 2 / 2


def test_pace_forgets_the_networks_gone_quiet_past_its_size() -> None:
    pace = Pace(half_life=1.0, keys=3)
    for key in ("a", "b", "c"):
        pace.hit(key, 0.0)
    pace.hit("d", 60.0)  # a minute later the others weigh nothing
    assert set(pace._seen) == {"d"}


# -- the pause before a held network's refusal ----------------------------------------------------


class Pauses:
    """The gate's sleep: records each pause asked for, which lasts until the test ends it."""

    def __init__(self) -> None:
        self.asked: list[float] = []
        self.end = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)
        await self.end.wait()


@pytest.fixture
def pausing(make_settings: Callable[..., Settings], clock: ManualClock) -> Iterator[Harness]:
    """A runtime with the default pause (RELAXED_LIMITS turns it off for other tests), where
    BOT's network is held blocked: its score is past the block score and a full check refused it."""
    harness = Harness(make_settings(shield_refusal_pause="2s"), clock)

    async def block() -> None:
        await shield.raise_score(harness.rt, BOT, 25)
        with pytest.raises(Forbidden):
            await shield.check_network(harness.rt, BOT)

    harness.run(block())
    yield harness
    harness.close()


def _status(sent: list[Any]) -> int:
    return int(sent[0]["status"])


def test_p18_a_held_network_is_refused_after_a_pause_and_a_person_is_not_held_meanwhile(
    pausing: Harness,
) -> None:
    app = SimpleNamespace(state=State({"rt": pausing.rt}))
    assert pausing.rt.settings.shield_refusal_pause == 2.0

    async def scenario() -> None:
        endpoint, pauses = Endpoint(), Pauses()
        gate = ShieldGate(endpoint, busy=2, sleep=pauses)
        bots = [_request(app, gate, BOT, f"bot{n}") for n in range(5)]
        await _settle()
        assert pauses.asked == [2.0] * 5 and gate.paused == 5
        assert not any(bot.done() for bot in bots)  # no refusal answered during its pause
        assert gate.under_way == 0  # a waiting refusal does not make the node busy
        endpoint.go.set()
        person = await _request(app, gate, PERSON, "person")  # answered while they wait
        assert _status(person) == 200 and endpoint.reached == ["person"]
        assert not any(bot.done() for bot in bots)
        pauses.end.set()
        for sent in await asyncio.gather(*bots):
            assert _status(sent) == 403 and b'"blocked"' in sent[1]["body"]
        assert gate.paused == 0 and endpoint.reached == ["person"]

    pausing.run(scenario())


def test_p18_a_held_networks_refusal_counts_its_try_again_from_the_end_of_the_pause(
    pausing: Harness,
) -> None:
    """The wait the refusal tells is the block's time left when it is answered, not when the
    pause began: it read up to the pause's length too long."""
    app = SimpleNamespace(state=State({"rt": pausing.rt}))

    async def scenario() -> None:
        pauses = Pauses()
        gate = ShieldGate(Endpoint(), sleep=pauses)
        bot = _request(app, gate, BOT, "bot")
        await _settle()
        (block,) = pausing.rt.shield_blocked.values()
        at_first = math.ceil((block.ends - pausing.clock.now()).total_seconds())
        assert at_first > 3 and pauses.asked == [2.0]
        pausing.clock.advance(timedelta(seconds=2))  # the pause, on the test's clock
        pauses.end.set()
        sent = await bot
        assert _status(sent) == 403
        assert f"try again in {at_first - 2} seconds".encode() in sent[1]["body"]

    pausing.run(scenario())


def test_p18_past_its_bound_a_held_networks_refusal_is_answered_at_once(
    pausing: Harness,
) -> None:
    """An attacker opening more connections cannot make the node hold them all."""
    app = SimpleNamespace(state=State({"rt": pausing.rt}))

    async def scenario() -> None:
        pauses = Pauses()
        gate = ShieldGate(Endpoint(), paused_at_most=2, sleep=pauses)
        bots = [_request(app, gate, BOT, f"bot{n}") for n in range(3)]
        await _settle()
        assert [bot.done() for bot in bots] == [False, False, True]
        assert _status(bots[2].result()) == 403 and len(pauses.asked) == 2
        pauses.end.set()
        assert [_status(sent) for sent in await asyncio.gather(*bots)] == [403] * 3

    pausing.run(scenario())


def test_p18_a_held_networks_socket_handshake_is_refused_after_the_pause(
    pausing: Harness,
) -> None:
    app = SimpleNamespace(state=State({"rt": pausing.rt}))

    async def scenario() -> None:
        pauses = Pauses()
        gate = ShieldGate(Endpoint(), sleep=pauses)
        handshake = _request(app, gate, BOT, "socket", kind="websocket")
        await _settle()
        assert not handshake.done() and pauses.asked == [2.0]
        pauses.end.set()
        assert await handshake == [{"type": "websocket.close", "code": 1008}]

    pausing.run(scenario())


def test_p18_without_a_pause_a_held_network_is_refused_at_once(harness: Harness) -> None:
    """`CAUSERIE_SHIELD_REFUSAL_PAUSE=0` (as RELAXED_LIMITS sets it for the other tests)."""
    app = SimpleNamespace(state=State({"rt": harness.rt}))
    assert harness.rt.settings.shield_refusal_pause == 0

    async def scenario() -> None:
        await shield.raise_score(harness.rt, BOT, 25)
        with pytest.raises(Forbidden):
            await shield.check_network(harness.rt, BOT)
        pauses = Pauses()
        bot = _request(app, ShieldGate(Endpoint(), sleep=pauses), BOT, "bot")
        await _settle()
        assert bot.done() and _status(bot.result()) == 403 and pauses.asked == []

    harness.run(scenario())
