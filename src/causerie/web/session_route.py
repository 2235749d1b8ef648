"""`POST /api/widget/v1/websites/{website_id}/session`, the chatbox load: a plain Starlette route.

Every page view of every website calls it, so it skips FastAPI's per-request machinery (its
dependency solving and endpoint wrapping cost more than the renewal itself, docs/performance.md)
and is documented in the OpenAPI document by hand (`OPERATION`). It parses the body with the same
model and raises the same errors as the other routes, which the app's exception handlers turn
into `{"error": {...}}`. See docs/api.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.openapi.models import Operation
from starlette.requests import ClientDisconnect
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from causerie.actions.presence import get_availability
from causerie.actions.sessions import OpenedSession, do_open_session
from causerie.domain.models import PageView, Website
from causerie.domain.websites import public_settings
from causerie.domain.wire import message_json, read_up_to_json, visitor_session_json
from causerie.runtime import Runtime
from causerie.web.body import body_doc, parse_json
from causerie.web.client import client_ip
from causerie.web.errors import answer_error, answer_storage_failure
from causerie.web.schemas import SessionIn

PATH = "/api/widget/v1/websites/{website_id}/session"
_PREFIX, _SUFFIX = PATH.split("{website_id}")

# What FastAPI generated for this operation when it served it, kept identical (normalised as
# FastAPI normalises its documents: through its OpenAPI models, without null fields).
_OPERATION: dict[str, Any] = {
    "tags": ["visitor"],
    "summary": "Open the chatbox session: renew it from its token, or create a temporary one",
    "operationId": "open_session_api_widget_v1_websites__website_id__session_post",
    "parameters": [
        {
            "name": "website_id",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "title": "Website Id"},
        }
    ],
    "responses": {
        "200": {
            "description": "Successful Response",
            "content": {"application/json": {"schema": {}}},
        },
        "422": {
            "description": "Validation Error",
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}
            },
        },
    },
    **body_doc(SessionIn),
}
OPERATION: dict[str, Any] = jsonable_encoder(
    Operation(**_OPERATION), by_alias=True, exclude_none=True
)

# As Starlette's JSONResponse renders, with one encoder built once.
_encode = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, separators=(",", ":"), check_circular=False
).encode
# `get_availability`'s two answers, encoded.
_ONLINE = _encode({"online": True})
_OFFLINE = _encode({"online": False})


def _website_id(scope: Scope) -> str | None:
    """`{website_id}` if the path is `PATH` (as the route's `[^/]+` reads it), else None.

    Cheaper than `Route.matches`. Paths under a `root_path` are left to the router.
    """
    path: str = scope["path"]
    if scope.get("root_path") or not (path.startswith(_PREFIX) and path.endswith(_SUFFIX)):
        return None
    website_id = path[len(_PREFIX) : len(path) - len(_SUFFIX)]
    if len(path) <= len(_PREFIX) + len(_SUFFIX) or "/" in website_id:
        return None
    return website_id


async def _body(receive: Receive) -> bytes:
    """The request body, whole (as `Request.body()` reads it; BodyLimit bounds it)."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


@dataclass(frozen=True)
class _WebsiteJson:
    """A website's part of the answer, serialised, and what it was serialised from."""

    website: Website  # what it was made from: the store hands the same object while unchanged
    name: str
    settings: dict[str, Any]
    cookie_max_age: int
    head: str  # `{"id":...,"name":...,"settings":{...},"availability":`
    cookie: str  # `{"name":...,"max_age":...}`


class SessionRoute:
    """The endpoint, with the serialised public part of each website it has answered for.

    The website is read with the session on every load, so a cached part is used only while the
    website's name and settings are those it was made from: a change (on any node) shows at the
    next load.
    """

    def __init__(self) -> None:
        self._websites: dict[str, _WebsiteJson] = {}
        # An ASGI app rather than a request/response function: no Request or Response objects,
        # nor the exception wrapper Starlette puts around each function endpoint (the app's
        # ExceptionMiddleware around the router still turns the errors into answers).
        self.route = Route(PATH, self, methods=["POST"])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        rt: Runtime = scope["app"].state.rt
        data = parse_json(await _body(receive), SessionIn)
        user_agent = origin = None
        for name, value in scope["headers"]:
            if name == b"user-agent" and user_agent is None:
                user_agent = value.decode("latin-1")
            elif name == b"origin" and origin is None:
                origin = value.decode("latin-1")
        opened = await do_open_session(
            rt,
            website_id=scope["path_params"]["website_id"],
            token=data.token,
            page=PageView(
                url=data.page.url,
                title=data.page.title,
                referrer=data.page.referrer,
                locale=data.locale,
                timezone=data.timezone,
                user_agent=(user_agent or "")[:512],
            ),
            ip=client_ip(scope, rt.settings.trusted_proxies),
            origin=origin,
        )
        body = (await self._answer(rt, opened)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 201 if opened.created else 200,
                "headers": [
                    (b"content-length", str(len(body)).encode()),
                    (b"content-type", b"application/json"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _answer(self, rt: Runtime, opened: OpenedSession) -> str:
        """`{token, session, messages, read_up_to, seq, website: {id, name, settings,
        availability}, cookie}`"""
        website = self._website_json(opened.website, rt)
        head = _encode(
            {
                "token": opened.token,
                "session": visitor_session_json(opened.session),
                "messages": [message_json(m) for m in opened.messages] if opened.messages else [],
                "read_up_to": read_up_to_json(opened.conversation),
                "seq": opened.seq,
            }
        )
        online = (await get_availability(rt, opened.website.id))["online"]
        availability = _ONLINE if online else _OFFLINE
        return f'{head[:-1]},"website":{website.head}{availability}}},"cookie":{website.cookie}}}'

    def _website_json(self, website: Website, rt: Runtime) -> _WebsiteJson:
        max_age = int(rt.settings.cookie_max_age.total_seconds())
        cached = self._websites.get(website.id)
        if (
            cached is not None
            and (
                cached.website is website
                or (cached.name == website.name and cached.settings == website.settings)
            )
            and cached.cookie_max_age == max_age
        ):
            return cached
        public = {"id": website.id, "name": website.name, "settings": public_settings(website)}
        cookie = {"name": f"causerie_session_{website.id}", "max_age": max_age}
        made = _WebsiteJson(
            website=website,
            name=website.name,
            settings=dict(website.settings),
            cookie_max_age=max_age,
            head=f'{_encode(public)[:-1]},"availability":',
            cookie=_encode(cookie),
        )
        self._websites[website.id] = made
        return made


class SessionFastPath:
    """Middleware, innermost of the app's own: hands a chatbox load straight to its route.

    The app's CORS, body limit and access log middlewares still run around it; what it skips is
    the routing and exception layers below them (FastAPI's ExceptionMiddleware and exit stack,
    the routers), which cost more than a renewal's own work. It takes only requests the router
    would give the route (`_website_id` accepts a subset of the paths its pattern matches), and
    answers the route's refusals as the app's exception handlers do (`errors.answer_error`).
    Anything else, including other methods on the same path, goes down the usual way.
    """

    def __init__(self, app: ASGIApp, route: SessionRoute) -> None:
        self.app = app
        self.endpoint = route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            website_id = _website_id(scope)
            if website_id is not None:
                scope["endpoint"] = self.endpoint
                scope["path_params"] = {"website_id": website_id}
                try:
                    await self.endpoint(scope, receive, send)
                except Exception as exc:
                    response = answer_error(exc) or answer_storage_failure(
                        exc, scope["app"].state.storage_failure
                    )
                    if response is None:
                        raise
                    await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
