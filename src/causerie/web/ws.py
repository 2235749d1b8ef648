"""`/ws/visitor` and `/ws/agent`: parse a frame, call one action, push the answer.

See docs/realtime.md.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from causerie.actions.accounts import LOGIN_COOKIE
from causerie.actions.agent_access import access_agent
from causerie.actions.messages import Sent, do_send_operator_message, do_send_session_message
from causerie.actions.presence import (
    do_set_agent_status,
    do_typing,
    do_visitor_connected,
    do_visitor_disconnected,
    get_availability,
    get_visitors_online,
    presence_channel,
)
from causerie.actions.reads import do_mark_read
from causerie.actions.sessions import access_visitor_stream, get_visitor_conversation_id
from causerie.actions.websites import get_website
from causerie.domain.access import session_key, website_key
from causerie.domain.events import Stream, encode_plain
from causerie.domain.models import Actor, Author, Scope, Session
from causerie.domain.ports import agent_connection_id
from causerie.domain.websites import allows_origin
from causerie.domain.wire import visitor_session_json
from causerie.realtime.guard import AccessGuard
from causerie.runtime import Runtime
from causerie.tokens import new_id
from causerie.web.cors import OriginCache
from causerie.web.deps import origin_of
from causerie.web.errors import error_response
from causerie.web.frames import Auth, Availability, MessageSend, Ping, Read, Typing
from causerie.web.sockets import FrameError, Replies, Subscription, serve

TYPING_REPEAT = 2.0  # seconds: an unchanged "typing on" is forwarded at most this often


class _Typing:
    """Forwards a typing state only when it changes, or to repeat "on" every TYPING_REPEAT."""

    __slots__ = ("_on", "_sent_at")

    def __init__(self) -> None:
        self._on = False
        self._sent_at = 0.0

    def should_send(self, on: bool) -> bool:
        now = time.monotonic()
        if on == self._on and not (on and now - self._sent_at >= TYPING_REPEAT):
            return False
        self._on, self._sent_at = on, now
        return True


# A second `auth`: a socket keeps the credential and stream of its first for its whole life.
_AUTHENTICATED = FrameError(
    "invalid_frame",
    "auth: this socket is authenticated already; open another socket for another credential "
    "or website (resume with after)",
)


def _pong(out: Replies) -> None:
    out.push({"type": "pong"})


def _ack(out: Replies, client_id: str, sent: Sent) -> None:
    # The message as its events carry it, encoded once (actions/messages.py).
    head = f'{{"type":"message.ack","client_id":{encode_plain(client_id)},"message":'
    out.push_text(f"{head}{sent.message_text()}}}")


class VisitorHandler:
    __slots__ = ("connection_id", "conversation_id", "origin", "rt", "session", "typing")

    def __init__(self, rt: Runtime, origin: str | None) -> None:
        self.rt = rt
        self.origin = origin
        self.connection_id = new_id()
        self.session: Session | None = None
        self.conversation_id: str | None = None
        self.typing = _Typing()

    async def _conversation_id(self) -> str | None:
        """The visitor's conversation, once it exists (it never changes after)."""
        if self.conversation_id is None and self.session is not None:
            self.conversation_id = await get_visitor_conversation_id(self.rt, self.session.id)
        return self.conversation_id

    async def authenticate(self, frame: Auth) -> Subscription:
        if frame.token is None:
            raise FrameError("unauthenticated", "token: the session token is required")
        async with self.rt.store.read() as tx:
            session = await access_visitor_stream(self.rt, tx, frame.token, self.origin)
        self.session = session
        await do_visitor_connected(self.rt, session, self.connection_id)
        return Subscription(
            stream=Stream.of_session(session.id),
            after=frame.after,
            ready={
                "session": visitor_session_json(session),
                "conversation_id": await self._conversation_id(),
                "availability": await get_availability(self.rt, session.website_id),
            },
            channels=(presence_channel(session.website_id),),
            on_close=[self._closed],
            ends_with=(session_key(session.id), website_key(session.website_id)),
        )

    async def _closed(self) -> None:
        assert self.session is not None
        await do_visitor_disconnected(self.rt, self.session, self.connection_id)

    async def _refused_target(self, frame: MessageSend) -> str | None:
        """The field of a visitor's `message.send` that names what is not theirs to write to
        (as any refused field is told: field, then why), or None."""
        if frame.note:
            return "note: private notes are the agents'"
        if frame.session_id:
            return "session_id: a visitor sends to their own session only"
        return await self._other_conversation(frame, "sends to")

    async def _other_conversation(
        self, frame: MessageSend | Typing | Read, does: str
    ) -> str | None:
        """What is wrong with a frame naming a conversation that is not the visitor's own (field,
        then why), or None: naming their own, or none, is theirs (`message.send`, `typing`,
        `read` alike)."""
        if frame.conversation_id is not None and (
            frame.conversation_id != await self._conversation_id()
        ):
            return f"conversation_id: a visitor {does} their own conversation only"
        return None

    async def handle(self, frame: Any, out: Replies) -> None:
        session = self.session
        assert session is not None
        if isinstance(frame, Ping):
            _pong(out)
        elif isinstance(frame, MessageSend):
            # SPEC.md's `message.send` may name its conversation: a visitor may name their own.
            refused = await self._refused_target(frame)
            if refused is not None:
                raise FrameError("invalid_frame", f"message.send.{refused}", frame.client_id)
            sent = await do_send_session_message(
                self.rt,
                session.id,
                client_id=frame.client_id,
                body=frame.body,
                website_id=session.website_id,
            )
            _ack(out, frame.client_id, sent)
        elif isinstance(frame, Typing | Read) and (
            refused := await self._other_conversation(
                frame, "types in" if isinstance(frame, Typing) else "reads"
            )
        ):
            raise FrameError("invalid_frame", f"{frame.type}.{refused}")
        elif isinstance(frame, Typing):
            if self.typing.should_send(frame.on):
                do_typing(
                    self.rt,
                    website_id=session.website_id,
                    session_id=session.id,
                    conversation_id=await self._conversation_id(),
                    on=frame.on,
                )
        elif isinstance(frame, Read):
            conversation_id = await self._conversation_id()
            if conversation_id is None:
                raise FrameError("message_not_found", "there is no message to read yet")
            await do_mark_read(
                self.rt,
                conversation_id=conversation_id,
                reader=Author.VISITOR,
                up_to=frame.up_to,
                session_id=session.id,
            )
        elif isinstance(frame, Auth):
            raise _AUTHENTICATED
        else:
            raise FrameError("invalid_frame", f"visitors do not send {frame.type!r} frames")


class AgentHandler:
    __slots__ = (
        "actor",
        "answers",
        "connection_id",
        "login_token",
        "name",
        "rt",
        "typing",
        "website_id",
    )

    def __init__(self, rt: Runtime, login_token: str | None = None) -> None:
        self.rt = rt
        self.login_token = login_token  # the handshake's login cookie, from the inbox's origin
        self.connection_id = new_id()
        self.actor: Actor | None = None
        self.website_id = ""
        self.name = ""
        self.typing = _Typing()
        # Whether this socket can answer visitors (the `write` scope): only then does it make its
        # website "online" and its operator present for automatic assignment. A read-only token
        # (a dashboard, a monitor) follows the stream without telling visitors someone is there.
        self.answers = False

    async def authenticate(self, frame: Auth) -> Subscription:
        login_token = None if frame.token is not None else self.login_token
        self.login_token = None  # not kept for the socket's life: the guard keeps a hash
        access = await access_agent(
            self.rt, frame.website_id, api_token=frame.token, login_token=login_token
        )
        operator, website_id = access.operator, access.website_id
        self.actor, self.website_id, self.name = access.actor, website_id, operator.name
        self.connection_id = agent_connection_id(operator.id, new_id())
        self.answers = Scope.WRITE in access.actor.scopes
        if self.answers:
            await do_set_agent_status(self.rt, self.website_id, self.connection_id, frame.status)
        return Subscription(
            stream=Stream.of_website(website_id),
            after=frame.after,
            ready={
                "website_id": website_id,
                "operator": {"id": operator.id, "name": operator.name},
                "availability": await get_availability(self.rt, website_id),
                "visitors_online": await get_visitors_online(self.rt, website_id),
            },
            on_close=[self._closed],
            guard=AccessGuard(self.rt, access),
        )

    async def _closed(self) -> None:
        if self.answers:
            await do_set_agent_status(self.rt, self.website_id, self.connection_id, None)

    async def handle(self, frame: Any, out: Replies) -> None:
        actor = self.actor
        assert actor is not None
        if isinstance(frame, Ping):
            _pong(out)
        elif isinstance(frame, MessageSend):
            if not (frame.conversation_id or frame.session_id):
                raise FrameError(
                    "invalid_frame",
                    "message.send.conversation_id: Field required (or session_id: an agent names "
                    "the conversation, or the session it writes to first)",
                    frame.client_id,
                )
            if frame.conversation_id and frame.session_id:
                # Which one was meant, were they to disagree, is unknown.
                raise FrameError(
                    "invalid_frame",
                    "message.send: name conversation_id or session_id, not both",
                    frame.client_id,
                )
            sent = await do_send_operator_message(
                self.rt,
                actor,
                client_id=frame.client_id,
                body=frame.body,
                type_="note" if frame.note else "text",
                conversation_id=frame.conversation_id,
                session_id=frame.session_id,
                website_id=self.website_id,
            )
            _ack(out, frame.client_id, sent)
        elif isinstance(frame, Typing):
            await self._typing(frame)
        elif isinstance(frame, Read):
            if frame.conversation_id is None:
                raise FrameError(
                    "invalid_frame",
                    "read.conversation_id: Field required (an agent names the conversation)",
                )
            await do_mark_read(
                self.rt,
                conversation_id=frame.conversation_id,
                reader=Author.OPERATOR,
                up_to=frame.up_to,
                actor=actor,
            )
        elif isinstance(frame, Availability):
            if not self.answers:
                raise FrameError(
                    "insufficient_scope",
                    "this token lacks the 'write' scope: a read-only socket is never an agent "
                    "online",
                )
            await do_set_agent_status(self.rt, self.website_id, self.connection_id, frame.status)
        elif isinstance(frame, Auth):
            raise _AUTHENTICATED
        else:
            raise FrameError("invalid_frame", f"agents do not send {frame.type!r} frames")

    async def _typing(self, frame: Typing) -> None:
        if frame.conversation_id is None:
            raise FrameError(
                "invalid_frame",
                "typing.conversation_id: Field required (an agent names the conversation)",
            )
        # The visitor sees "NAME is typing": like a reply or a read mark, it takes `write` (the
        # membership is the socket's guard's to watch).
        if self.actor is not None and Scope.WRITE not in self.actor.scopes:
            raise FrameError("insufficient_scope", "this token lacks the 'write' scope")
        async with self.rt.store.read() as tx:
            conversation = await tx.conversations.get(frame.conversation_id)
            if conversation is None or conversation.website_id != self.website_id:
                raise FrameError(
                    "conversation_not_found", f"no conversation {frame.conversation_id!r}"
                )
        if self.typing.should_send(frame.on):
            operator = (
                {"id": self.actor.operator_id or "", "name": self.name} if self.actor else None
            )
            do_typing(
                self.rt,
                website_id=self.website_id,
                session_id=conversation.session_id,
                conversation_id=conversation.id,
                on=frame.on,
                operator=operator,
            )


def _runtime(ws: WebSocket) -> Runtime:
    rt: Runtime = ws.app.state.rt
    return rt


async def visitor_socket(ws: WebSocket) -> None:
    """The chatbox's socket. `?website_id=` lets the handshake check the origin exactly."""
    rt = _runtime(ws)
    origin = ws.headers.get("origin")
    if origin is not None:
        website_id = ws.query_params.get("website_id")
        if website_id:
            website = await get_website(rt, website_id)
            allowed = website is not None and allows_origin(website, origin)
        else:
            cache: OriginCache = ws.app.state.origin_cache
            allowed = origin in await cache.get(rt)
        if not allowed:
            await ws.close(code=1008)  # before accept: the handshake is refused with 403
            return
    await ws.accept()
    await serve(ws, rt, VisitorHandler(rt, origin), ws.app.state.idle_sweeper)


async def agent_socket(ws: WebSocket) -> None:
    """The inbox's and integrations' socket. The login cookie counts only when the handshake
    comes from the server's own pages: another site's page cannot borrow an agent's login."""
    rt = _runtime(ws)
    origin = ws.headers.get("origin")
    same_site = origin is None or origin.lower() == origin_of(rt.settings.public_url)
    login_token = ws.cookies.get(LOGIN_COOKIE) if same_site else None
    await ws.accept()
    await serve(ws, rt, AgentHandler(rt, login_token), ws.app.state.idle_sweeper)


# Plain Starlette routes, not FastAPI's: a socket lives for minutes or hours, and FastAPI's
# WebSocket route keeps its dependency-solving state and exit stacks alive all that time (memory
# per idle socket, docs/performance.md). These endpoints take no dependencies.
async def not_upgraded(request: Request) -> Response:
    """A plain HTTP request to a socket's path (a client that forgot the upgrade, a proxy that
    dropped its headers) is told so, rather than "Not Found" for a path that exists."""
    return error_response(
        426,
        "upgrade_required",
        f"{request.url.path} is a WebSocket endpoint: connect with a WebSocket client "
        "(Upgrade: websocket), then send the auth frame",
        headers={"Upgrade": "websocket", "Connection": "Upgrade"},
    )


routes = [
    WebSocketRoute("/ws/visitor", visitor_socket),
    WebSocketRoute("/ws/agent", agent_socket),
    Route("/ws/visitor", not_upgraded, methods=["GET"]),
    Route("/ws/agent", not_upgraded, methods=["GET"]),
]
