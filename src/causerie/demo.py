"""`causerie demo`: the server plus a sample shop on a second origin with the chatbox embedded.

The shop is a separate origin (another port), as a customer's website would be, so the demo
exercises exactly what a real embed does: a first-party cookie on the shop, CORS, WebSockets.
"""

from __future__ import annotations

import asyncio
import html

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from causerie.actions.operators import (
    do_add_operator,
    do_create_api_token,
    do_reset_password,
)
from causerie.actions.websites import do_create_website
from causerie.app import create_app
from causerie.domain.models import Actor, Role, Scope, Website
from causerie.runtime import Runtime
from causerie.server import uvicorn_options
from causerie.settings import Settings

DEMO_NAME = "Demo shop"
DEMO_OPERATOR = "demo@causerie.example"

_PAGES = {
    "/": ("Home", "Welcome to the demo shop. Open the chat in the corner and say hello."),
    "/shoes": ("Shoes", "Red shoes, blue shoes. The chat follows you from page to page."),
}


def shop_app(website_id: str, causerie_url: str) -> Starlette:
    async def page(request: Request) -> HTMLResponse:
        title, text = _PAGES[request.url.path]
        links = " · ".join(f'<a href="{path}">{name}</a>' for path, (name, _) in _PAGES.items())
        return HTMLResponse(
            f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} · {DEMO_NAME}</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:3rem auto}}</style>
</head><body>
<nav>{links}</nav><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>
<script>window.CAUSERIE_WEBSITE_ID = "{website_id}";</script>
<script src="{causerie_url}/widget.js" async></script>
</body></html>"""
        )

    return Starlette(routes=[Route(path, page) for path in _PAGES])


async def prepare(rt: Runtime, shop_origin: str) -> tuple[Website, str, str]:
    """The demo website (created once), and for its demo operator a fresh password (the demo
    runs on one's own machine: each start prints a password that works) and API token."""
    async with rt.store.transaction() as tx:
        existing = [w for w in await tx.list_websites() if w.name == DEMO_NAME]
    website = next((w for w in existing if shop_origin in w.origins), None)
    if website is None:
        website = await do_create_website(rt, Actor.cli(), DEMO_NAME, [shop_origin])
    await do_add_operator(
        rt, Actor.cli(), DEMO_OPERATOR, website_id=website.id, role=Role.OWNER, name="Demo agent"
    )
    password = await do_reset_password(rt, Actor.cli(), DEMO_OPERATOR)
    _, token = await do_create_api_token(
        rt, Actor.cli(), DEMO_OPERATOR, name="demo", scopes=frozenset(Scope)
    )
    return website, token, password


async def serve_demo(
    settings: Settings, website_id: str, host: str, port: int, shop_port: int
) -> None:
    causerie_url = f"http://{host}:{port}"
    options = uvicorn_options(settings)
    servers = [
        uvicorn.Server(uvicorn.Config(create_app(settings), host=host, port=port, **options)),
        uvicorn.Server(
            uvicorn.Config(
                shop_app(website_id, causerie_url),
                host=host,
                port=shop_port,
                log_config=options["log_config"],
                access_log=False,
            )
        ),
    ]
    await asyncio.gather(*(server.serve() for server in servers))
