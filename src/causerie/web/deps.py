"""FastAPI dependencies: the runtime, the client's address, credentials from headers.

All `async def`: FastAPI runs plain `def` dependencies in a thread pool, a hop that costs more
than the work they do.
"""

from __future__ import annotations

import hmac
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request

from causerie.actions.access import access_actor_by_api_token
from causerie.actions.accounts import LOGIN_COOKIE, access_actor_by_login, csrf_token
from causerie.domain.errors import shown
from causerie.domain.models import Actor
from causerie.runtime import Runtime
from causerie.web.client import client_ip
from causerie.web.errors import ApiError


async def get_runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.rt
    return rt


async def get_client_ip(request: Request) -> str:
    rt: Runtime = request.app.state.rt
    return client_ip(request.scope, rt.settings.trusted_proxies)


async def bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthenticated", "send Authorization: Bearer <token>")
    return token.strip()


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


async def get_actor(request: Request) -> Actor:
    """An API token (`Authorization: Bearer`) or the inbox's login cookie.

    With the cookie, a state-changing request must come from the server's own origin and carry
    the login's CSRF token in `X-CSRF-Token` (docs/api.md "Credentials").
    """
    rt: Runtime = request.app.state.rt
    if request.headers.get("authorization"):
        return await access_actor_by_api_token(rt, await bearer(request))
    token = request.cookies.get(LOGIN_COOKIE)
    if not token:
        raise ApiError(401, "unauthenticated", "log in, or send Authorization: Bearer <api token>")
    actor = await access_actor_by_login(rt, token)
    if request.method not in SAFE_METHODS:
        origin = request.headers.get("origin")
        expected = origin_of(rt.settings.public_url)
        if origin is not None and origin.lower() != expected:
            # Named, so that a server reached at another address than CAUSERIE_PUBLIC_URL says
            # why its inbox cannot change anything.
            raise ApiError(
                403,
                "csrf_failed",
                f"this request comes from another site: its Origin {shown(origin)} is not "
                f"this server's ({expected}, from CAUSERIE_PUBLIC_URL)",
            )
        sent = request.headers.get("x-csrf-token", "")
        if not hmac.compare_digest(sent.encode(), csrf_token(rt, token).encode()):
            raise ApiError(403, "csrf_failed", "send the login's X-CSRF-Token header")
    return actor


async def get_login_token(request: Request) -> str | None:
    """The login cookie's token, when the request is made with it (not with an API token)."""
    if request.headers.get("authorization"):
        return None
    return request.cookies.get(LOGIN_COOKIE)


Rt = Annotated[Runtime, Depends(get_runtime)]
ClientIp = Annotated[str, Depends(get_client_ip)]
Bearer = Annotated[str, Depends(bearer)]
CurrentActor = Annotated[Actor, Depends(get_actor)]
LoginToken = Annotated[str | None, Depends(get_login_token)]
