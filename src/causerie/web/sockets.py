"""What every Causerie WebSocket does, visitor or agent (docs/realtime.md).

The first frame must be `auth`; the socket then follows its stream (replaying from `after`) and
reads frames until it closes. A bad frame gets an `error` frame and the socket stays open; so
does a frame over the rate (`rate_limited`). A socket silent for `ws_idle_timeout` is closed, and
so is one that cannot keep up with its stream (its client resumes from its last seq).

An idle socket should cost little more than the connection itself (docs/performance.md): one
task (its reader), no timer of its own (one `IdleSweeper` per app watches every socket's last
frame), and a writer only while frames wait to leave (`StreamFollower`).

An agent socket also has an `AccessGuard`: when its credential or membership ends, the socket
gets an `error` frame saying why and closes with 4010 (credential) or 4003 (access), and no frame
read meanwhile is acted on (docs/realtime.md "When access ends").
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import ValidationError
from pydantic_core import from_json
from starlette.types import Message
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from causerie.actions.batches import QUEUED
from causerie.actions.events import get_position
from causerie.domain.access import ACCESS_REVOKED, SESSION_GONE
from causerie.domain.errors import AccessEnded, DomainError, RateLimited, cut, shown
from causerie.domain.events import Stream
from causerie.realtime.follower import SlowConsumer, StreamFollower
from causerie.realtime.guard import AccessGuard
from causerie.realtime.limits import TokenBucket
from causerie.runtime import Runtime
from causerie.web.dropped import DROPPED_KEY
from causerie.web.errors import describe_validation, failure
from causerie.web.frames import FRAME, FRAME_TYPES, Auth, MessageSend
from causerie.web.wire_values import ERROR_TYPE

log = logging.getLogger("causerie.realtime")

AUTH_TIMEOUT = 10.0
# A socket's `message.send`s under way at once (`_Sends`); past it, the reader waits for one to be
# answered before it reads on. The frame rate limits them first (20 frames/s, bursts of 40).
SENDS_IN_FLIGHT = 64

# Close codes (4000-4999 are the application's).
CLOSE_UNAUTHENTICATED = 4001
CLOSE_ACCESS_REVOKED = 4003  # removed from the website, or the website deleted
CLOSE_GONE = 4004
CLOSE_IDLE = 4008
CLOSE_SLOW = 4009
CLOSE_CREDENTIAL_ENDED = 4010  # API token revoked, logged out, login expired
CLOSE_SERVER_ERROR = 1011  # after an `error` frame: the server failed before the socket was ready


class _Gone(Exception):
    """The socket's session no longer exists: say so, then close."""

    def __init__(self, frame: dict[str, Any]) -> None:
        super().__init__(frame["message"])
        self.frame = frame


class FrameError(Exception):
    def __init__(
        self,
        code: str,
        message: str,
        client_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.code, self.message, self.client_id = code, message, client_id
        self.retry_after = retry_after


@dataclass
class Subscription:
    """What an authenticated socket follows and tells its client first."""

    stream: Stream
    after: int | None
    ready: dict[str, Any]
    channels: tuple[str, ...] = ()  # extra ephemeral channels (e.g. the website's presence)
    on_close: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    guard: AccessGuard | None = None  # an agent's access, watched until it ends
    ends_with: tuple[str, ...] = ()  # a visitor's: keys whose revocation means its session is gone


class Replies(Protocol):
    """Where a handler puts the frames that answer this socket alone (`StreamFollower`)."""

    def push(self, frame: dict[str, Any]) -> None: ...

    def push_text(self, text: str) -> None: ...


class Handler(Protocol):
    async def authenticate(self, frame: Auth) -> Subscription: ...

    async def handle(self, frame: Any, out: Replies) -> None: ...


def error_frame(
    code: str, message: str, client_id: str | None = None, retry_after: float | None = None
) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if client_id is not None:
        frame["client_id"] = client_id
    if retry_after is not None:
        frame["retry_after"] = retry_after  # seconds: send the frame again after this long
    return frame


@dataclass(frozen=True, slots=True)
class Dropped:
    """A message the protocol dropped unread for its size (causerie.ws_protocol)."""

    size: int  # bytes, as announced


def parse_frame(text: str | Dropped, max_size: int) -> Any:
    """A validated frame, or FrameError naming what is wrong."""
    if isinstance(text, Dropped) or len(text) > max_size:
        raise FrameError("frame_too_large", f"frames are limited to {max_size} characters")
    try:
        # Not `json.loads`: this parser stops at a depth limit (a deep frame would raise
        # RecursionError) and refuses NaN, Infinity and lone surrogates, none of which are JSON.
        raw = from_json(text, allow_inf_nan=False)
    except ValueError:
        raise FrameError("invalid_json", "the frame is not valid JSON") from None
    if not isinstance(raw, dict):
        raise FrameError("invalid_frame", "a frame is a JSON object with a type")
    # Echoed so that the client knows which frame was refused; one longer than the 64 characters
    # a client_id may have is cut as an error cuts any value (`domain.errors.cut`).
    client_id = cut(raw["client_id"]) if isinstance(raw.get("client_id"), str) else None
    if not isinstance(raw.get("type"), str):
        missing = "Field required" if "type" not in raw else "a frame type is a string"
        raise FrameError("invalid_frame", f"type: {missing}", client_id)
    if raw["type"] not in FRAME_TYPES:
        raise FrameError("unknown_type", f"unknown frame type {shown(raw['type'])}", client_id)
    try:
        return FRAME.validate_python(raw)
    except ValidationError as exc:
        errors = [dict(e) for e in exc.errors()]
        for error in errors:
            if error.get("type") == ERROR_TYPE:  # `after: ...`: named as the others, `auth.after`
                error["msg"] = f"{raw['type']}.{error['msg']}"
        raise FrameError("invalid_frame", describe_validation(errors), client_id) from None


class IdleSweeper:
    """Closes the sockets that sent nothing for `timeout` seconds (code 4008).

    One task per app looks at every socket's last frame a few times per timeout, instead of a
    timer per socket rescheduled on each frame; it runs only while sockets are open.
    """

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._interval = min(max(timeout / 4, 0.05), 5.0)
        self._seen: dict[WebSocket, float] = {}
        self._task: asyncio.Task[None] | None = None

    def watch(self, ws: WebSocket) -> None:
        self._seen[ws] = time.monotonic()
        loop = asyncio.get_running_loop()
        # A sweeper left on another loop (an app served again after its loop closed) is dead.
        if self._task is None or self._task.done() or self._task.get_loop() is not loop:
            self._task = loop.create_task(self._sweep_forever(), name="causerie-idle-sweeper")

    def heard(self, ws: WebSocket) -> None:
        if ws in self._seen:
            self._seen[ws] = time.monotonic()

    def forget(self, ws: WebSocket) -> None:
        self._seen.pop(ws, None)

    async def _sweep_forever(self) -> None:
        try:
            while self._seen:
                await asyncio.sleep(self._interval)
                deadline = time.monotonic() - self.timeout
                idle = [ws for ws, seen in self._seen.items() if seen <= deadline]
                for ws in idle:
                    del self._seen[ws]
                    # Closing makes the socket's pending receive return a disconnect: its
                    # reader then ends the socket as for any client that left.
                    _in_background(_close(ws, CLOSE_IDLE, "idle"))
        finally:
            if self._task is asyncio.current_task():
                self._task = None


async def _receive_text(ws: WebSocket, seconds: float) -> str | Dropped | None:
    """The next text frame; None when the client went away. TimeoutError after `seconds`."""
    async with asyncio.timeout(seconds):
        message = await ws.receive()
    return _text_of(message)


def _text_of(message: Message) -> str | Dropped | None:
    """A received message's text; None for a disconnect."""
    if message["type"] == "websocket.disconnect":
        return None
    if DROPPED_KEY in message:
        return Dropped(message[DROPPED_KEY])
    text = message.get("text")
    if text is None:
        data = message.get("bytes") or b""
        try:
            text = data.decode()
        except UnicodeDecodeError:
            return ""
    return str(text)


async def _close(ws: WebSocket, code: int, reason: str = "") -> None:
    if ws.application_state is WebSocketState.CONNECTED:
        with contextlib.suppress(Exception):
            await ws.close(code, reason)


async def serve(ws: WebSocket, rt: Runtime, handler: Handler, idle: IdleSweeper) -> None:
    """Run an accepted socket to its end."""
    settings = rt.settings
    max_frame = settings.max_body
    send = ws.send_text
    try:
        subscription = await _authenticate(ws, handler, max_frame)
    except TimeoutError:
        # Told why, as for a bad first frame (docs/realtime.md, "Auth").
        with contextlib.suppress(Exception):
            message = f"the first frame must be auth, within {AUTH_TIMEOUT:g} seconds"
            await send(json.dumps(error_frame("unauthenticated", message)))
        await _close(ws, CLOSE_UNAUTHENTICATED, "no auth frame")
        return
    except WebSocketDisconnect:
        await _close(ws, CLOSE_UNAUTHENTICATED, "no auth frame")
        return
    if subscription is None:
        return

    guard = subscription.guard
    follower = StreamFollower(
        rt,
        subscription.stream,
        send,
        on_error=lambda error: _writer_failed(error, ws),
        check=guard.check if guard is not None else None,
    )
    channels = (subscription.stream.key, *subscription.channels)
    on_close = subscription.on_close
    if guard is not None:  # before following: nothing may reach a socket whose access ended
        guard.start(lambda error: _in_background(_end_access(ws, follower, error)))
        rt.hub.guard(guard.keys, guard)
    ends_with = subscription.ends_with
    watch = _SessionWatch(ws, follower)
    if ends_with:
        rt.hub.guard(ends_with, watch)
    for channel in channels:
        await rt.hub.follow(channel, follower)
    idle.watch(ws)
    try:
        position = await get_position(rt, subscription.stream)
        after = position if subscription.after is None else min(subscription.after, position)
        # Access ended meanwhile: no ready, no replay; its guard sends the error and closes, and
        # the reader waits for that (no await between this check and the send).
        if (guard is None or guard.ended is None) and not watch.ended:
            await send(json.dumps({"type": "ready", "seq": position, **subscription.ready}))
            follower.start(after)
        del subscription  # what it said is sent; only its channels and on_close stay
        sends = _Sends(ws, handler, follower, watch)
        try:
            await _read_frames(
                ws, handler, follower, settings.frame_rate, max_frame, idle, guard, sends
            )
        finally:
            # Its messages handed to their lanes are stored (or refused) and answered, as when
            # the reader waited for each.
            with contextlib.suppress(Exception):
                await sends.idle()
    except (WebSocketDisconnect, ConnectionError):
        pass
    except _Gone as gone:
        await follower.stop()
        with contextlib.suppress(Exception):
            await send(json.dumps(gone.frame))
        await _close(ws, CLOSE_GONE, "session gone")
    except Exception as exc:  # the stream's position could not be read
        await follower.stop()
        await _fail(ws, exc)
    finally:
        idle.forget(ws)
        if guard is not None:
            guard.stop()
            rt.hub.unguard(guard.keys, guard)
        if ends_with:
            rt.hub.unguard(ends_with, watch)
        await follower.stop()
        for channel in channels:
            await rt.hub.unfollow(channel, follower)
        for callback in on_close:
            try:
                await callback()
            except Exception:
                log.exception("socket close callback failed")
        await _close(ws, 1000)


async def _authenticate(ws: WebSocket, handler: Handler, max_frame: int) -> Subscription | None:
    text = await _receive_text(ws, AUTH_TIMEOUT)
    if text is None:
        return None
    try:
        frame = parse_frame(text, max_frame)
        if not isinstance(frame, Auth):
            raise FrameError("unauthenticated", "the first frame must be auth")
        return await handler.authenticate(frame)
    except FrameError as exc:
        await ws.send_text(json.dumps(error_frame(exc.code, exc.message)))
    except DomainError as exc:
        await ws.send_text(json.dumps(error_frame(exc.code, exc.message)))
    except (WebSocketDisconnect, ConnectionError):
        raise
    except Exception as exc:
        await _fail(ws, exc)
        return None
    await _close(ws, CLOSE_UNAUTHENTICATED, "authentication failed")
    return None


def _failure_frame(ws: WebSocket, exc: Exception, client_id: str | None = None) -> dict[str, Any]:
    """The `error` frame for an exception no action refused (web/errors.py `failure`)."""
    storage_failure = getattr(ws.app.state, "storage_failure", None) or (lambda _: False)
    status, code, message = failure(exc, storage_failure)
    if status == 503:
        log.warning("socket: the database cannot store: %r", exc)
    else:
        log.exception("socket: frame failed", exc_info=exc)
    return error_frame(code, message, client_id)


async def _fail(ws: WebSocket, exc: Exception) -> None:
    """Say what failed, then close with CLOSE_SERVER_ERROR: the socket's state is unknown."""
    with contextlib.suppress(Exception):
        await ws.send_text(json.dumps(_failure_frame(ws, exc)))
    await _close(ws, CLOSE_SERVER_ERROR, "server error")


async def _read_frames(
    ws: WebSocket,
    handler: Handler,
    out: StreamFollower,
    rate: float,
    max_frame: int,
    idle: IdleSweeper,
    guard: AccessGuard | None,
    sends: _Sends,
) -> None:
    bucket = TokenBucket(rate, 2 * rate)
    while True:
        message = await ws.receive()  # directly: one frame less held by each idle socket
        text = _text_of(message)
        if text is None:
            return
        idle.heard(ws)
        if guard is not None and not await _still_allowed(guard):
            continue  # the socket is being closed: nothing it sends now is acted on
        allowed = bucket.take()
        frame = None
        try:
            frame = parse_frame(text, max_frame)
            if allowed and isinstance(frame, MessageSend):
                await sends.start(frame)  # answered in its turn; the next frame is read now
                continue
            await sends.idle()  # the sends before it answered first: answers keep frame order
            if not allowed:
                client_id = getattr(frame, "client_id", None)
                raise FrameError(
                    "rate_limited",
                    "too many frames: send this one again later",
                    client_id,
                    retry_after=max(0.001, round(bucket.wait(), 3)),
                )
            await handler.handle(frame, out)
        except (WebSocketDisconnect, ConnectionError):
            raise
        except Exception as exc:
            await sends.idle()
            if _gone(exc):
                raise _Gone(error_frame(SESSION_GONE, str(exc))) from None
            out.push(_refusal(ws, exc, frame))


def _gone(exc: Exception) -> bool:
    """Whether `exc` says the visitor's session no longer exists: the socket is closed (4004)."""
    return isinstance(exc, DomainError) and exc.code == SESSION_GONE


def _refusal(ws: WebSocket, exc: Exception, frame: Any) -> dict[str, Any]:
    """The `error` frame answering `frame`, which failed with `exc`."""
    # A refused message.send names its client_id, so that the client knows which message to
    # send again (rate_limited) or to give up.
    client_id = getattr(frame, "client_id", None) if frame is not None else None
    if isinstance(exc, FrameError):
        return error_frame(exc.code, exc.message, exc.client_id, exc.retry_after)
    if isinstance(exc, DomainError):
        retry_after = exc.retry_after if isinstance(exc, RateLimited) else None
        return error_frame(exc.code, exc.message, client_id, retry_after)
    return _failure_frame(ws, exc, client_id)  # a full disk, or a bug: the socket goes on


class _Held:
    """The answers of one send, held until the sends before it have answered."""

    __slots__ = ("frames",)

    def __init__(self) -> None:
        self.frames: list[dict[str, Any] | str] = []

    def push(self, frame: dict[str, Any]) -> None:
        self.frames.append(frame)

    def push_text(self, text: str) -> None:
        self.frames.append(text)


class _Send:
    __slots__ = ("queued", "task")

    def __init__(self, queued: asyncio.Future[None]) -> None:
        self.queued = queued  # done once its part has its place in its lane, or it ended
        self.task: asyncio.Task[None] | None = None


class _Sends:
    """A socket's `message.send`s under way: each is handed to its website's lane as soon as
    it is read, rather than once the one before it is stored, so a message never waits for
    another's commit before its own batch (docs/realtime.md, "Sends in flight"). Each starts
    once the send before it has its place in the lane (`batches.QUEUED`), so the lane keeps the
    socket's order; its answer (ack or error) leaves once the one before it has, so answers keep
    the order of the frames. Other frames wait for every send under way (`idle`), as before."""

    __slots__ = ("_handler", "_last", "_out", "_running", "_watch", "_ws")

    def __init__(
        self, ws: WebSocket, handler: Handler, out: StreamFollower, watch: _SessionWatch
    ) -> None:
        self._ws, self._handler, self._out, self._watch = ws, handler, out, watch
        self._last: _Send | None = None
        # None while none is under way: an idle socket holds no set (memory per idle socket).
        self._running: set[asyncio.Task[None]] | None = None

    async def start(self, frame: Any) -> None:
        running = self._running
        if running is not None and len(running) >= SENDS_IN_FLIGHT:
            await asyncio.wait(set(running), return_when=asyncio.FIRST_COMPLETED)
        loop = asyncio.get_running_loop()
        before, this = self._last, _Send(loop.create_future())
        task = this.task = loop.create_task(self._run(frame, before, this))
        self._last = this
        if self._running is None:
            self._running = {task}
        else:
            self._running.add(task)

    def _ended(self, task: asyncio.Task[None]) -> None:
        # Called by the send's own task as it ends, not as a done callback: one call scheduled
        # on the loop a send fewer (docs/performance.md, branch relay4).
        running = self._running
        if running is not None:
            running.discard(task)
            if not running:  # none under way: the next send has none before it
                self._running = self._last = None

    async def idle(self) -> None:
        """Until every send under way has answered."""
        while self._running:
            running = set(self._running)
            await asyncio.wait(running)
            # A task cancelled before its first step never ran its own `_ended`.
            for task in running:
                self._ended(task)

    async def _run(self, frame: Any, before: _Send | None, this: _Send) -> None:
        try:
            if before is not None and not before.queued.done():
                await asyncio.wait((before.queued,))
            QUEUED.set(this.queued)  # this task's context only
            held = _Held()
            gone = False
            try:
                await self._handler.handle(frame, held)
            except (WebSocketDisconnect, ConnectionError):
                pass  # the reader sees the socket closed
            except Exception as exc:
                gone = _gone(exc)
                if not gone:
                    held.push(_refusal(self._ws, exc, frame))
            finally:
                if not this.queued.done():
                    this.queued.set_result(None)
            if before is not None and before.task is not None and not before.task.done():
                await asyncio.wait((before.task,))
            for answer in held.frames:
                if isinstance(answer, str):
                    self._out.push_text(answer)
                else:
                    self._out.push(answer)
            if gone:
                self._watch.revoke(SESSION_GONE)  # told, then closed with 4004
        finally:
            assert this.task is not None  # set by `start` before this task's first step
            self._ended(this.task)


async def _still_allowed(guard: AccessGuard) -> bool:
    """Whether a frame may be acted on: access not ended, and a login past its end (as last
    read) still valid when read again. No read unless the login's end has come."""
    if guard.ended is None and guard.expired():
        with contextlib.suppress(AccessEnded):
            await guard.check()
    return guard.ended is None


class _SessionWatch:
    """A visitor socket's watch over its session (`domain.ports.Guard`): deleted on any node
    (P20, P9), or its website deleted, the socket is told `invalid_session` and closed with 4004
    at once, rather than at its next message (docs/realtime.md)."""

    __slots__ = ("_follower", "_ws", "ended")

    def __init__(self, ws: WebSocket, follower: StreamFollower) -> None:
        self._ws, self._follower = ws, follower
        self.ended = False

    def revoke(self, code: str) -> None:
        if not self.ended:
            self.ended = True
            _in_background(_end_session(self._ws, self._follower))


async def _end_session(ws: WebSocket, follower: StreamFollower) -> None:
    await follower.stop()
    with contextlib.suppress(Exception):
        frame = error_frame(SESSION_GONE, "this session no longer exists")
        await ws.send_text(json.dumps(frame))
    await _close(ws, CLOSE_GONE, "session gone")


async def _end_access(ws: WebSocket, follower: StreamFollower, error: AccessEnded) -> None:
    """No more events; the error frame saying why; then the close code (4003 or 4010)."""
    await follower.stop()
    with contextlib.suppress(Exception):
        await ws.send_text(json.dumps(error_frame(error.code, error.message)))
    code = CLOSE_ACCESS_REVOKED if error.code == ACCESS_REVOKED else CLOSE_CREDENTIAL_ENDED
    await _close(ws, code, error.code)


_background: set[asyncio.Future[None]] = set()


def _in_background(coroutine: Awaitable[None]) -> None:
    task = asyncio.ensure_future(coroutine)
    _background.add(task)
    task.add_done_callback(_background.discard)


def _writer_failed(error: BaseException, ws: WebSocket) -> None:
    """A writer that failed closes the socket, which ends the reader."""
    if isinstance(error, SlowConsumer):
        _in_background(_close(ws, CLOSE_SLOW, "slow consumer"))
    elif isinstance(error, AccessEnded):
        pass  # its guard ends the socket (`_end_access`)
    elif not isinstance(error, WebSocketDisconnect | ConnectionError):
        log.error("socket writer failed: %r", error)
        _in_background(_close(ws, 1011, "server error"))
