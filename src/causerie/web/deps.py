"""FastAPI dependencies: the runtime, the client's address, credentials from headers.

All `async def`: FastAPI runs plain `def` dependencies in a thread pool, a hop that costs more
than the work they do.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from causerie.actions.access import access_actor_by_api_token
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


async def get_actor(request: Request) -> Actor:
    return await access_actor_by_api_token(request.app.state.rt, await bearer(request))


Rt = Annotated[Runtime, Depends(get_runtime)]
ClientIp = Annotated[str, Depends(get_client_ip)]
Bearer = Annotated[str, Depends(bearer)]
CurrentActor = Annotated[Actor, Depends(get_actor)]
