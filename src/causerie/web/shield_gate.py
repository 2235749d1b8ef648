"""The shield's gate (P18): a chatbox request from a network this node found blocked by the
automatic defence is refused before anything else happens to it.

Blocked networks are mostly bots, and bots do not stop at a refusal: each comes back at once. A
refusal through the route costs what a chatbox load costs (the body parsed, the website and the
session read, the counters asked twice), so under a botnet the refusals took the node's time
from the visitors. Here it costs the client's address, a cached keyed hash and a dictionary
look-up; `actions/shield.py` `held_block` says which networks are held and for how long, and asks
the counters again every few seconds. Networks not held pass through untouched: the full checks
(the score, the rules, the limits) stay where they are.

Even that cheap refusal, answered at once, lets a botnet's loops ask again at once: thousands a
second took a whole core, and every turn of the event loop, so each of a person's requests,
which takes several turns, waited seconds (docs/performance.md). So a refusal at the gate is
answered after `CAUSERIE_SHIELD_REFUSAL_PAUSE`: each loop then asks once a pause, and waiting
costs the node a timer. At most `PAUSED_AT_MOST` refusals wait at once; past that, they are
answered at once, so that an attacker with more connections cannot make the node hold them all.

It covers the chatbox's HTTP API (`/api/widget/`, preflights excepted: the browser must be able
to read the refusal, and a person's export, erasure and withdrawal of consent, P9) and the
visitor's socket handshake, refused like a handshake from an origin the website does not allow.

It also orders the chatbox's HTTP requests while the node is busy: when `BUSY_LANE` of them are
already under way, a request from a network sending more than `CAUSERIE_SHIELD_BUSY_RATE` to
this node (`domain/pace.py`) waits in a lane that lets `BUSY_LANE` of theirs through at a time,
and the others go first. A botnet's closed loops, however many, then share those few places,
and people's requests are not queued behind them; nothing is refused, and a node that is not
busy orders nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from causerie.actions.shield import held_block
from causerie.domain.pace import Pace
from causerie.domain.shield import network_key
from causerie.runtime import Runtime
from causerie.web.client import client_ip
from causerie.web.errors import answer_error
from causerie.web.lane import Lane

WIDGET_API = "/api/widget/"
BUSY_LANE = 8  # requests under way past which the node is busy; then the lane's places
PAUSED_AT_MOST = 2000  # refusals waiting for their pause at once on a node
VISITOR_SOCKET = "/ws/visitor"
LOADS = "/api/widget/v1/websites/"
# When a request that waited in the lane came in (scope key): a message's pace is the sender's,
# not the lane's (`actions/messages.py`, the shield's conversations started at a bot's pace).
ARRIVED = "causerie.arrived"
# A person's rights over their data (P9) pass the gate: these only hand over or take away what is
# held about the session whose token they carry, and the route checks that token as always.
RIGHTS = frozenset(
    {
        ("GET", "/api/widget/v1/session/export"),
        ("DELETE", "/api/widget/v1/session"),
        ("DELETE", "/api/widget/v1/session/consent"),
    }
)


def _gated(scope: Scope) -> bool:
    kind: str = scope["type"]
    if kind == "http":
        path: str = scope["path"]
        method: str = scope["method"]
        return path.startswith(WIDGET_API) and method != "OPTIONS" and (method, path) not in RIGHTS
    return kind == "websocket" and scope["path"] == VISITOR_SOCKET


def _is_load(scope: Scope) -> bool:
    """A chatbox load: `POST /api/widget/v1/websites/{id}/session`."""
    path: str = scope["path"]
    return (
        scope["type"] == "http"
        and scope["method"] == "POST"
        and path.startswith(LOADS)
        and path.endswith("/session")
    )


class ShieldGate:
    def __init__(
        self,
        app: ASGIApp,
        busy: int = BUSY_LANE,
        paused_at_most: int = PAUSED_AT_MOST,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.app = app
        self.busy = busy
        self.under_way = 0  # the chatbox's HTTP requests in this node, waiting in the lane or not
        self.pace = Pace()
        self.lane = Lane(busy)
        self.paused_at_most = paused_at_most
        self.paused = 0  # refusals waiting for their pause
        self.sleep = sleep  # the tests' own, to end a pause when they choose

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if not _gated(scope):
            return self.app(scope, receive, send)
        rt: Runtime = scope["app"].state["rt"]  # `state.rt` raises and catches AttributeError
        if scope["type"] == "websocket":  # a socket lasts: it is never counted nor ordered
            if not rt.shield_blocked:
                return self.app(scope, receive, send)
            return self._gate_socket(rt, scope, receive, send)
        return self._gate(rt, scope, receive, send)

    async def _gate(self, rt: Runtime, scope: Scope, receive: Receive, send: Send) -> None:
        ip: str | None = None
        if rt.shield_blocked:  # refusals waiting for their pause are not under way
            ip = client_ip(scope, rt.settings.trusted_proxies)
            if await self._refused(rt, ip, scope, receive, send):
                return
        self.under_way += 1
        try:
            if self.under_way <= self.busy:  # nothing to look up
                await self.app(scope, receive, send)
                return
            if ip is None:
                ip = client_ip(scope, rt.settings.trusted_proxies)
            if self._sends_much(rt, ip):
                scope[ARRIVED] = rt.clock.now()  # before its wait: what the shield's pace reads
                async with self.lane:
                    await self.app(scope, receive, send)
            else:
                await self.app(scope, receive, send)
        finally:
            self.under_way -= 1

    async def _gate_socket(self, rt: Runtime, scope: Scope, receive: Receive, send: Send) -> None:
        ip = client_ip(scope, rt.settings.trusted_proxies)
        if not await self._refused(rt, ip, scope, receive, send):
            await self.app(scope, receive, send)

    async def _refused(
        self, rt: Runtime, ip: str, scope: Scope, receive: Receive, send: Send
    ) -> bool:
        """Refuse the request when its network is held blocked here; whether it was."""
        refusal = await held_block(rt, ip, load=_is_load(scope))
        if refusal is None:
            return False
        await self._pause(rt.settings.shield_refusal_pause)
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})  # a 403 to the handshake
        else:
            answer = answer_error(refusal())  # worded now: "try again in" counts from here
            assert answer is not None  # a DomainError always has its answer
            await answer(scope, receive, send)
        return True

    async def _pause(self, seconds: float) -> None:
        if seconds <= 0 or self.paused >= self.paused_at_most:
            return
        self.paused += 1
        try:
            await self.sleep(seconds)
        finally:
            self.paused -= 1

    def _sends_much(self, rt: Runtime, ip: str) -> bool:
        try:
            network = network_key(rt.settings.secret_key, ip)
        except ValueError:  # no address known: nothing to tell it by
            return False
        pace = self.pace.hit(network, rt.clock.now().timestamp())
        return pace > rt.settings.shield_busy_rate
