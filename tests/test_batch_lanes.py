"""Which waiting messages a batch lane takes first (domain/lanes.py, actions/batches.py; P18).

Under a flood, the messages of a network sending much wait as busy and go a few per batch; a
person's message goes in the next batch whatever the flood queued; a sender's messages keep
their order; nothing is refused. The clock is the test's, and a first part held open by the test
makes the lane queue what follows, so the batches' contents are exact.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from datetime import timedelta

from causerie.actions.batches import Batcher
from causerie.actions.messages import Sent, do_send_session_message
from causerie.actions.shield import lane_sender
from causerie.clock import ManualClock
from causerie.domain.lanes import BUSY_PARTS, SenderPace, next_batch
from causerie.domain.ports import Tx
from tests.conftest import Harness, Site
from tests.support import open_sessions

BOT = "bot-network"
PERSON = "person-network"
# A burst at one instant stays under the busy rate (0.5/s with a 10 s half-life) while its
# count is at most 7: 7 x ln 2 / 10 = 0.485; the 8th is over it (0.555).
QUIET_BURST = 7
LANE_BUSY_PARTS = 4  # the held lanes' batches take this many busy parts (BUSY_PARTS: 16)


@dataclass
class _Part:
    name: str
    sender: str | None
    busy: bool


def test_a_batch_takes_every_quiet_part_and_the_first_busy_ones_in_arrival_order() -> None:
    waiting = [
        _Part("b1", BOT, True),
        _Part("p1", PERSON, False),
        _Part("b2", BOT, True),
        _Part("b3", "other-bot", True),
        _Part("b4", BOT, True),
        _Part("b5", BOT, True),
        _Part("op", None, False),
        _Part("b6", BOT, True),
    ]
    batch = next_batch(waiting, limit=256, busy_parts=4)
    assert [p.name for p in batch] == ["b1", "p1", "b2", "b3", "b4", "op"]
    assert [p.name for p in waiting] == ["b5", "b6"]
    assert [p.name for p in next_batch(waiting, limit=256, busy_parts=4)] == ["b5", "b6"]
    assert waiting == []


def test_a_batch_holds_its_limit_and_what_is_left_keeps_its_order() -> None:
    waiting = [_Part(f"p{n}", f"person-{n}", False) for n in range(5)]
    assert [p.name for p in next_batch(waiting, limit=3)] == ["p0", "p1", "p2"]
    assert [p.name for p in waiting] == ["p3", "p4"]


def test_a_person_writing_quickly_is_never_busy_and_a_loop_is_at_its_eighth_message() -> None:
    pace = SenderPace()
    now = 1000.0
    # A person: a burst of three, then one every 4 seconds for a minute.
    assert not any(pace.busy(PERSON, now, []) for _ in range(3))
    for _ in range(15):
        now += 4
        assert not pace.busy(PERSON, now, [])
    # A loop sending as soon as it is answered: over the rate at its 8th message of a burst.
    verdicts = [pace.busy(BOT, now, []) for _ in range(QUIET_BURST + 1)]
    assert verdicts == [False] * QUIET_BURST + [True]
    # Without a sender (an operator, a reply by email), never.
    assert not any(pace.busy(None, now, []) for _ in range(100))


def test_a_message_behind_a_busy_one_of_its_sender_waits_as_busy_whatever_its_pace() -> None:
    pace = SenderPace()
    queued_busy = _Part("b1", BOT, True)
    # A minute later the sender's pace has decayed: quiet on its own, busy behind its own.
    assert pace.busy(BOT, 0.0, [_Part("p1", PERSON, False), queued_busy])
    assert not pace.busy(BOT, 60.0, [_Part("p1", PERSON, False)])
    assert not pace.busy(PERSON, 60.0, [queued_busy])


class _Lane:
    """A batcher on the test's clock, whose recording parts note (their name, the batch they
    ran in), and a first part the test holds open until it lets the lane go on."""

    def __init__(self, harness: Harness, clock: ManualClock) -> None:
        self.store = harness.rt.store
        self.batcher = Batcher(clock=clock, busy_parts=LANE_BUSY_PARTS)
        self.ran: list[tuple[str, int]] = []
        self.go = asyncio.Event()

    def send(self, name: str, sender: str | None) -> asyncio.Task[str]:
        async def part(tx: Tx) -> str:
            self.ran.append((name, self.batcher.batches))
            return name

        return asyncio.create_task(self.batcher.run(self.store, "w1", part, sender=sender))

    async def hold(self) -> asyncio.Task[str]:
        """The lane's first batch, running until `go` is set: what is sent meanwhile waits."""
        running = asyncio.Event()

        async def holding(tx: Tx) -> str:
            running.set()
            await self.go.wait()
            return "held"

        first = asyncio.create_task(self.batcher.run(self.store, "w1", holding))
        async with asyncio.timeout(5):
            await running.wait()
        return first

    def batches(self) -> list[list[str]]:
        by_batch: dict[int, list[str]] = {}
        for name, batch in self.ran:
            by_batch.setdefault(batch, []).append(name)
        return list(by_batch.values())


def test_a_person_s_message_goes_in_the_next_batch_whatever_a_flood_queued(
    harness: Harness, clock: ManualClock
) -> None:
    lane = _Lane(harness, clock)

    async def scenario() -> list[str]:
        first = await lane.hold()
        # While the first batch runs: a flood of 30 from one network, then a person's message,
        # then the flood's network again.
        sends = [lane.send(f"b{n}", BOT) for n in range(30)]
        sends += [lane.send("person", PERSON), lane.send("b30", BOT)]
        await asyncio.sleep(0)
        lane.go.set()
        async with asyncio.timeout(20):
            return await asyncio.gather(first, *sends)

    results = harness.run(scenario())
    assert results == ["held"] + [f"b{n}" for n in range(30)] + ["person", "b30"]
    batches = lane.batches()
    # The next batch: the burst's first 7 (under the rate), 4 busy ones, and the person's.
    busy = [f"b{n}" for n in range(QUIET_BURST, 31)]
    quiet = [f"b{n}" for n in range(QUIET_BURST)]
    assert batches[0] == quiet + busy[:LANE_BUSY_PARTS] + ["person"]
    # Then the busy ones, 4 a batch, in their order: none refused, none lost.
    rest, size = busy[LANE_BUSY_PARTS:], LANE_BUSY_PARTS
    assert batches[1:] == [rest[at : at + size] for at in range(0, len(rest), size)]


def test_a_busy_sender_s_messages_keep_their_order_when_its_pace_falls(
    harness: Harness, clock: ManualClock
) -> None:
    lane = _Lane(harness, clock)

    async def scenario() -> None:
        first = await lane.hold()
        sends = [lane.send(f"b{n}", BOT) for n in range(16)]
        await asyncio.sleep(0)
        # Two minutes on, the network's pace has decayed under the rate: its next messages are
        # still behind its busy ones.
        clock.advance(timedelta(minutes=2))
        sends += [lane.send(f"b{n}", BOT) for n in range(16, 18)]
        sends.append(lane.send("person", PERSON))
        await asyncio.sleep(0)
        lane.go.set()
        async with asyncio.timeout(20):
            await asyncio.gather(first, *sends)

    harness.run(scenario())
    # b0-b6 under the rate, b7-b15 busy, b16-b17 busy behind them: 4 busy ones a batch.
    assert lane.batches() == [
        [f"b{n}" for n in range(11)] + ["person"],
        ["b11", "b12", "b13", "b14"],
        ["b15", "b16", "b17"],
    ]


def test_an_office_sending_much_is_slowed_in_its_lane_and_never_refused_p18(
    harness: Harness, site: Site
) -> None:
    """Sixty people of one office network writing at once, over the real store: every message is
    stored once, in the order it was sent, however many batches it took."""
    rt = harness.rt
    sessions = open_sessions(harness, site.website_id, 60)  # 203.0.113.1-60: one network
    batcher = rt.batches
    assert isinstance(batcher, Batcher)
    before = batcher.batches

    async def all_at_once() -> list[Sent]:
        return await asyncio.gather(
            *(
                do_send_session_message(
                    rt,
                    session_id,
                    client_id=f"c{n}",
                    body=f"hello {n}",
                    website_id=site.website_id,
                    ip=f"203.0.113.{n + 1}",
                )
                for n, session_id in enumerate(sessions)
            )
        )

    sent = harness.run(all_at_once())
    assert all(s.created for s in sent)
    assert harness.scalar("SELECT count(*) FROM messages") == 60
    ordered = harness.rows("SELECT body FROM messages ORDER BY seq")
    assert [row[0] for row in ordered] == [f"hello {n}" for n in range(60)]
    # The office went as busy from its 8th message on: BUSY_PARTS a batch.
    later = 60 - QUIET_BURST - BUSY_PARTS
    assert batcher.batches - before == 1 + math.ceil(later / BUSY_PARTS)


def test_the_lane_s_sender_is_the_visitor_s_network_and_never_the_server_s_own_host(
    harness: Harness,
) -> None:
    rt = harness.rt
    office = lane_sender(rt, "198.51.100.7")
    assert office is not None and office == lane_sender(rt, "198.51.100.200")
    assert office != lane_sender(rt, "198.51.101.7")
    assert "198.51.100" not in office  # a keyed hash, never the address (P18)
    assert lane_sender(rt, "127.0.0.1") is None
    assert lane_sender(rt, None) is None
    assert lane_sender(rt, "not an address") is None
