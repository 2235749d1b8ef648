"""The shield (P18): per-network aggregates, the automatic defence and the block rules' check.

Every count and score is keyed by the network's keyed hash (`domain.shield.network_key`), never
an address. The defence keeps one bot score per network, which halves every
`CAUSERIE_SHIELD_HALF_LIFE`: challenges left unanswered, wrong proofs, the honeypot, rate limits
hit (a session writing faster than a person types most) and conversations marked as spam raise
it, solved challenges lower it. A network creating
more sessions than `CAUSERIE_SHIELD_CHALLENGE_RATE` (or with a score) must solve a proof of work
per new session; at `CAUSERIE_SHIELD_BLOCK_SCORE` it is blocked until the score decays below it.
A network starting conversations at a bot's pace (sooner after their session opened than a
person writes, past `CAUSERIE_SHIELD_HASTY_OPENINGS` in seconds) is held at once: a sign on time,
not on counts of requests, so it comes however few requests the node has served.
A busy office behind one address solves its challenges (the chatbox does, unseen), so its score
stays low and it is never blocked (docs/security.md "The shield").
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import math
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from functools import lru_cache, partial
from typing import Any

from causerie.caching import cached
from causerie.domain.errors import Forbidden, RateLimited, Unavailable, try_again_in
from causerie.domain.models import Session
from causerie.domain.ports import Tx
from causerie.domain.shield import (
    AGGREGATE_WINDOW,
    HASTY_HOLD,
    HASTY_WINDOW,
    OPENING_WINDOW,
    BlockRule,
    Challenge,
    HeldBlock,
    check_solution,
    hold_score,
    is_hasty,
    make_nonce,
    matching_rule,
    network_key,
    opening_key,
)
from causerie.domain.windows import window_of
from causerie.runtime import Runtime

log = logging.getLogger("causerie.shield")

# How much each sign moves a network's bot score.
SCORE_CHALLENGED = 1.0  # a challenge given (taken back when it is solved)
SCORE_SOLVED = -1.0
SCORE_BAD_PROOF = 2.0  # a wrong, stale or reused proof of work
SCORE_HONEYPOT = 5.0
SCORE_LIMITED = 0.5  # a request over a rate limit a busy office may reach
# A session writing faster than a person types (over its own burst of messages): no office
# does that however many people it holds, and a bot spreading over many networks, each below
# every rate a busy office reaches, does it in each session.
SCORE_FLOOD = 2.0
SCORE_SPAM = 5.0  # an agent marked a conversation of the network as spam
# A conversation opened with the text of more than `CAUSERIE_SHIELD_REPEATED_OPENINGS` others of
# the website within `OPENING_WINDOW`: a campaign pasting one text into every session, however
# slowly it writes.
SCORE_REPEATED = 2.0
SCORE_WHILE_BLOCKED = 0.1  # persisting while blocked keeps the block on
SUSPECT = 0.25  # from this share of the block score on, every new session is challenged

_tasks: set[asyncio.Task[Any]] = set()
# The task handing a runtime's pending counts to its aggregates, by id(rt.shield_counts).
_adders: dict[int, asyncio.Task[None]] = {}


class Challenged(RateLimited):
    """A new session must first solve a proof of work (HTTP 429 `challenge_required`)."""

    code = "challenge_required"

    def __init__(self, challenge: Challenge) -> None:
        super().__init__("solve the challenge and load the chatbox again", 1)
        self.challenge = challenge


def blocked(what: str) -> Forbidden:
    return Forbidden(what, "blocked")


def _spawn(coro: Coroutine[Any, Any, None]) -> asyncio.Task[None] | None:
    """Counting never holds up or fails a request: it runs beside it."""
    try:
        task = asyncio.get_running_loop().create_task(coro)
    except RuntimeError:
        coro.close()
        return None
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)
    return task


@lru_cache(maxsize=4096)  # asked at every message of a visitor: parsed once per address
def _exempt(ip: str) -> bool:
    """The server's own host (loopback, or an unknown peer) is never challenged or blocked by
    the automatic defence: an administrator's own tests are no botnet. Rules and limits hold."""
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return True


# -- aggregates --------------------------------------------------------------------------------


def count(
    rt: Runtime, ip: str | None, metric: str, n: int = 1, now: datetime | None = None
) -> None:
    """Add to the network's count of `metric` in this window (P18), beside the request.

    Counts wait in `rt.shield_counts`, summed per network, metric and window, for one task that
    hands them to the aggregates: the requests of a loop's turn share it rather than each
    starting its own (a task per chatbox load cost about a twentieth of a renewal)."""
    if not ip:
        return
    try:
        network = network_key(rt.settings.secret_key, ip)
    except ValueError:
        return
    at = rt.clock.now() if now is None else now
    pending = rt.shield_counts
    key = (network, metric, window_of(at, AGGREGATE_WINDOW))
    held = pending.get(key)
    pending[key] = (n if held is None else held[0] + n, at)
    adder = _adders.get(id(pending))
    if adder is None or adder.done():  # done: also one its loop cancelled before it ran
        adder = _spawn(_add_pending(rt))
        if adder is None:  # no loop running: counted nowhere, as a count beside no request
            pending.clear()
            return
        _adders[id(pending)] = adder
        adder.add_done_callback(lambda task: _forget_adder(id(pending), task))


def _forget_adder(key: int, task: asyncio.Task[None]) -> None:
    if _adders.get(key) is task:
        del _adders[key]


async def _add_pending(rt: Runtime) -> None:
    pending = rt.shield_counts
    while pending:
        counts = [(network, metric, at, n) for (network, metric, _), (n, at) in pending.items()]
        pending.clear()
        if len(counts) == 1:
            await rt.aggregates.add(*counts[0])
        else:
            await asyncio.gather(*(rt.aggregates.add(*each) for each in counts))


def count_after_commit(rt: Runtime, tx: Tx, ip: str | None, metric: str) -> None:
    """`count`, once the transaction that did it commits."""
    if ip:
        tx.on_commit(lambda: count(rt, ip, metric))


def count_upload(rt: Runtime, ip: str | None) -> None:
    """The files feature calls it for each file a visitor uploads (P18 aggregates)."""
    count(rt, ip, "uploads")


async def flushed() -> None:
    """Wait for the counts under way (tests, and before a read of the aggregates)."""
    loop = asyncio.get_running_loop()
    while mine := [task for task in _tasks if task.get_loop() is loop]:
        await asyncio.gather(*mine, return_exceptions=True)


# -- the bot score -----------------------------------------------------------------------------


async def _score(rt: Runtime, ip: str, add: float) -> float:
    network = network_key(rt.settings.secret_key, ip)
    try:
        return await rt.counters.score(
            f"shield:{network}", rt.clock.now(), add, rt.settings.shield_half_life
        )
    except Unavailable as exc:
        log.warning("bot scores unknown while the counters are unreachable: %s", exc)
        return 0.0


async def score_of(rt: Runtime, network: str) -> float:
    """The bot score of a network, by its keyed hash."""
    try:
        return await rt.counters.score(
            f"shield:{network}", rt.clock.now(), 0, rt.settings.shield_half_life
        )
    except Unavailable:
        return 0.0


async def raise_score(rt: Runtime, ip: str | None, add: float) -> float:
    if not ip or _exempt(ip):
        return 0.0
    if add < 0:  # a conversation unmarked as spam: the block may end now, this node asks again
        rt.shield_blocked.pop(network_key(rt.settings.secret_key, ip), None)
    return await _score(rt, ip, add)


async def note_limited(rt: Runtime, ip: str, sign: float = SCORE_LIMITED) -> None:
    """A request of `ip` went over a rate limit; `sign`: what that says of automation."""
    count(rt, ip, "limited")
    await raise_score(rt, ip, sign)


def note_opening_after_commit(
    rt: Runtime, tx: Tx, session: Session, body: str, arrived: datetime
) -> None:
    """Once the transaction that started the session's conversation with `body` (a message that
    arrived at `arrived`) commits, count that opening for its website; past
    `CAUSERIE_SHIELD_REPEATED_OPENINGS` in the window, the network's bot score rises
    (`SCORE_REPEATED`). An opening at a bot's pace (`domain.shield.is_hasty`) is counted for its
    network too (`_note_hasty`). Beside the message: it never delays or fails it."""
    if not session.ip or _exempt(session.ip):
        return
    key = opening_key(rt.settings.secret_key, session.website_id, body)
    hasty = is_hasty(session.created_at, arrived, rt.settings.shield_hasty_delay)
    if key is None and not hasty:
        return
    ip = session.ip

    def committed() -> None:
        if key is not None:
            _spawn(_note_opening(rt, ip, key))
        if hasty:
            _spawn(_note_hasty(rt, ip, arrived))

    tx.on_commit(committed)


async def _note_hasty(rt: Runtime, ip: str, at: datetime) -> None:
    """A conversation of `ip`'s network started at a bot's pace: counted in the network's
    window of `HASTY_WINDOW` (in Redis across nodes when configured); past
    `CAUSERIE_SHIELD_HASTY_OPENINGS`, the network is held: its score is raised by what decays to
    the block score in `HASTY_HOLD`, its next requests refused on every node."""
    network = network_key(rt.settings.secret_key, ip)
    try:
        seen = await rt.counters.hit(f"shield:hasty:{network}", at, HASTY_WINDOW)
    except Unavailable as exc:
        log.warning("hasty openings not counted while the counters are unreachable: %s", exc)
        return
    if seen > rt.settings.shield_hasty_openings:
        settings = rt.settings
        count(rt, ip, "flagged")
        hold = hold_score(settings.shield_block_score, settings.shield_half_life, HASTY_HOLD)
        await raise_score(rt, ip, hold)


async def _note_opening(rt: Runtime, ip: str, key: str) -> None:
    try:
        seen = await rt.counters.hit(f"shield:opening:{key}", rt.clock.now(), OPENING_WINDOW)
    except Unavailable as exc:
        log.warning("openings not counted while the counters are unreachable: %s", exc)
        return
    if seen > rt.settings.shield_repeated_openings:
        count(rt, ip, "flagged")
        await raise_score(rt, ip, SCORE_REPEATED)


def _block_seconds(rt: Runtime, score: float) -> int:
    """How long until `score` decays below the block score."""
    ratio = score / rt.settings.shield_block_score
    seconds = rt.settings.shield_half_life.total_seconds() * math.log2(max(ratio, 1.0))
    return max(1, math.ceil(seconds))


def _blocked_network(seconds: int) -> Forbidden:
    return blocked(f"this network sent what looks like automated traffic; {try_again_in(seconds)}")


async def check_network(rt: Runtime, ip: str) -> float:
    """Refuse a visitor's request while their network is blocked by the automatic defence; this
    node then holds the block, refusing the network's next requests at the door (`held_block`).
    Else the network's bot score (0 for the server's own host)."""
    if _exempt(ip):
        return 0.0
    score = await _score(rt, ip, 0)
    if score >= rt.settings.shield_block_score:
        score = await _score(rt, ip, SCORE_WHILE_BLOCKED)
        now = rt.clock.now()
        _hold(rt, network_key(rt.settings.secret_key, ip), score, now)
        count(rt, ip, "blocked", now=now)
        raise _blocked_network(_block_seconds(rt, score))
    return score


# -- the blocks held by this node ----------------------------------------------------------------

# How long a node refuses a network it found blocked before asking the counters again: what
# another node's change (a conversation unmarked as spam there) may take to be seen here.
HOLD_RECHECK = timedelta(seconds=5)
HELD_MAX = 4096  # networks held at once; past it, the stale ones go first, then all


def _hold(rt: Runtime, network: str, score: float, now: datetime) -> None:
    held = rt.shield_blocked
    if len(held) >= HELD_MAX and network not in held:
        for stale in [key for key, block in held.items() if block.recheck <= now]:
            del held[stale]
        if len(held) >= HELD_MAX:
            held.clear()  # each one is found again by its next request's full check
    ends = now + timedelta(seconds=_block_seconds(rt, score))
    held[network] = HeldBlock(ends=ends, recheck=min(ends, now + HOLD_RECHECK))


async def held_block(rt: Runtime, ip: str, *, load: bool = False) -> Callable[[], Forbidden] | None:
    """When this node holds the block of `ip`'s network, what words its refusal, else None: for
    the web's gate, before any route, body or read (web/shield_gate.py). The refusal is worded
    when called: the gate answers after a pause, and its "try again in" counts from then. A
    refused chatbox load (`load`) still counts among the network's loads, as it does when the
    route refuses it.

    The counters stay the truth: every `HOLD_RECHECK` the score is asked again, with the
    refusals since added as each would have added itself (`SCORE_WHILE_BLOCKED`); below the block
    score the network is let through to the full checks."""
    held = rt.shield_blocked
    if not held:
        return None
    try:
        network = network_key(rt.settings.secret_key, ip)
    except ValueError:
        return None
    block = held.get(network)
    if block is None:
        return None
    now = rt.clock.now()
    if now >= block.recheck:
        del held[network]
        score = await _score(rt, ip, SCORE_WHILE_BLOCKED * (block.persisting + 1))
        if score < rt.settings.shield_block_score:
            return None
        _hold(rt, network, score, now)
        block = held[network]
    else:
        block.persisting += 1
    if load:
        count(rt, ip, "loads", now=now)
    count(rt, ip, "blocked", now=now)
    return partial(_held_refusal, rt, network, block)


def _held_refusal(rt: Runtime, network: str, block: HeldBlock) -> Forbidden:
    """The refusal of a held network, with the seconds its block has left now (as held now: a
    recheck meanwhile may have held it again)."""
    block = rt.shield_blocked.get(network, block)
    return _blocked_network(max(1, math.ceil((block.ends - rt.clock.now()).total_seconds())))


async def check_new_session(
    rt: Runtime, ip: str, *, proof: tuple[str, str] | None, honeypot: bool
) -> None:
    """The automatic defence on a new session: blocked networks are refused, a filled honeypot
    flags a bot, and a network over the challenge rate (or with a bot score) must send a solved
    `proof` (nonce, solution) of a challenge it was given."""
    if honeypot:
        count(rt, ip, "flagged")
        await raise_score(rt, ip, SCORE_HONEYPOT)
        raise blocked("this request looks automated")
    if _exempt(ip):
        return
    score = await check_network(rt, ip)
    settings, now = rt.settings, rt.clock.now()
    network = network_key(settings.secret_key, ip)
    if proof is not None:
        nonce, solution = proof
        bits = settings.shield_challenge_bits
        solved = check_solution(settings.secret_key, network, now, nonce, solution, bits)
        if solved and await _first_use(rt, nonce):
            await _score(rt, ip, SCORE_SOLVED)
            await _take_challenge_token(rt, network)
            return
        count(rt, ip, "flagged")
        score = await _score(rt, ip, SCORE_BAD_PROOF)
    over = not await _take_challenge_token(rt, network)
    if over or score >= SUSPECT * settings.shield_block_score or proof is not None:
        count(rt, ip, "challenged")
        await _score(rt, ip, SCORE_CHALLENGED)
        bits = settings.shield_challenge_bits
        raise Challenged(Challenge(make_nonce(settings.secret_key, network, now, bits), bits))


async def _take_challenge_token(rt: Runtime, network: str) -> bool:
    rate = rt.settings.shield_challenge_rate
    try:
        wait = await rt.counters.take(
            f"challenge:{network}", rt.clock.now(), rate, max(1.0, math.floor(rate * 60))
        )
    except Unavailable:
        return True
    return wait == 0


async def _first_use(rt: Runtime, nonce: str) -> bool:
    """A proof serves one session: its nonce is remembered while it is valid."""
    try:
        uses = await rt.counters.hit(f"proof:{nonce[-24:]}", rt.clock.now(), timedelta(minutes=10))
    except Unavailable:
        return True
    return uses == 1


# -- block rules -------------------------------------------------------------------------------


async def rules_of(rt: Runtime, website_id: str, tx: Tx | None = None) -> tuple[BlockRule, ...]:
    """The rules holding on a website (its own and the server-wide ones), cached a few seconds.
    `tx`: the transaction the caller is in (a read outside it would wait for it on SQLite)."""
    rules = cached(rt.block_rules, website_id)
    if rules is None:
        if tx is not None:
            rules = tuple(await tx.shield.rules_for(website_id, rt.clock.now()))
        else:
            async with rt.store.read() as reader:
                rules = tuple(await reader.shield.rules_for(website_id, rt.clock.now()))
        rt.block_rules[website_id] = rules
    return rules


async def check_rules(
    rt: Runtime,
    website_id: str,
    *,
    ip: str | None,
    user_agent: str | None = None,
    email: str | None = None,
    tx: Tx | None = None,
    now: datetime | None = None,
) -> None:
    """403 `blocked` when a block rule of the website, or a server-wide one, matches (at `now`,
    the clock's by default).

    The rules are looked up in their cache here first: every chatbox load checks them, and
    `rules_of`'s coroutine, made and run for a cached value, cost more than the look-up."""
    rules = cached(rt.block_rules, website_id)
    if rules is None:
        rules = await rules_of(rt, website_id, tx)
    if not rules:
        return
    at = rt.clock.now() if now is None else now
    rule = matching_rule(rules, at, ip=ip, user_agent=user_agent, email=email)
    if rule is not None:
        count(rt, ip, "blocked", now=at)
        raise blocked("the chatbox is not available to this visitor")


async def check_visitor(rt: Runtime, session: Session, tx: Tx | None = None) -> None:
    """A visitor's session about to act (send, upload, update): rules and the network's block."""
    await check_rules(
        rt,
        session.website_id,
        ip=session.ip,
        user_agent=session.user_agent,
        email=session.email,
        tx=tx,
    )
    if session.ip:
        await check_network(rt, session.ip)
