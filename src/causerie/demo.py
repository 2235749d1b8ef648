"""`causerie demo`: the server plus a sample shop on a second origin with the chatbox embedded.

The shop is a separate origin (another port), as a customer's website would be, so the demo
exercises exactly what a real embed does: a first-party cookie on the shop, CORS, WebSockets.
"""

from __future__ import annotations

import asyncio
import html
import socket
from dataclasses import dataclass

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


@dataclass(frozen=True)
class _Product:
    name: str
    price: str
    colour: str  # of the drawn shoe: the page loads no image (P1, P16)
    blurb: str


_PRODUCTS = [
    _Product(
        "Lune sneaker", "€89", "#e03131", "Red canvas, a soft white sole, laces in three colours."
    ),
    _Product("Harbour loafer", "€120", "#1c3d6e", "Navy suede for the office and the weekend."),
    _Product("Trail runner", "€135", "#2b8a3e", "Grippy, light and waterproof, for muddy paths."),
    _Product("Velvet slipper", "€59", "#7048e8", "For slow mornings: velvet outside, wool inside."),
    _Product("City boot", "€159", "#8a5a2b", "Leather ankle boot, resoleable for years."),
    _Product("Beach sandal", "€39", "#0c8599", "Cork footbed, dries in minutes."),
]

# The shoe drawn in each product's colour: inline, so that the page requests nothing.
_SHOE = (
    '<svg viewBox="0 0 64 40" role="img" aria-label="{name}"><path fill="{colour}" '
    'd="M4 30C4 22 10 20 16 20L24 12C26 10 30 10 31 13L34 20C40 22 52 24 58 28C61 30 61 34 58'
    ' 35L6 35C4 35 4 33 4 30Z"/><path fill="#fff" opacity=".85" d="M4 31h56v4H6c-2 0-2-2-2-4Z"/>'
    "</svg>"
)

_STYLE = """
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;
background:#faf8f5}
a{color:inherit}
.bar{margin:0;background:#1f2328;color:#fff;font-size:13px;text-align:center;padding:6px 12px}
header.top{display:flex;align-items:center;gap:24px;flex-wrap:wrap;max-width:64rem;
margin:0 auto;padding:16px 20px}
.logo{font-weight:800;font-size:22px;letter-spacing:-.02em;text-decoration:none}
.logo span{color:#e03131}
nav.main{display:flex;gap:18px;flex:1}
nav.main a{text-decoration:none;color:#57606a;font-weight:600}
nav.main a[aria-current=page]{color:#1f2328;border-bottom:2px solid #e03131}
.bag{font-size:14px;color:#57606a}
main{max-width:64rem;margin:0 auto;padding:0 20px 40px}
.hero{display:grid;gap:8px;padding:40px 32px;margin:8px 0 32px;border-radius:16px;
background:linear-gradient(120deg,#ffe3e3,#fff4e6);}
.hero h1{margin:0;font-size:clamp(28px,5vw,44px);line-height:1.1;letter-spacing:-.02em}
.hero p{margin:0;max-width:36rem;color:#57606a}
h2{font-size:22px;margin:0 0 16px}
.grid{list-style:none;margin:0;padding:0;display:grid;gap:20px;
grid-template-columns:repeat(auto-fill,minmax(14rem,1fr))}
.product{display:flex;flex-direction:column;gap:6px;padding:16px;border-radius:14px;
background:#fff;box-shadow:0 1px 3px rgb(0 0 0/8%)}
.product svg{display:block;width:100%;height:8rem;padding:12px 20px;border-radius:10px;
background:#f3f0eb}
.product h3{margin:6px 0 0;font-size:17px}
.product p{margin:0;color:#57606a;font-size:14px;flex:1}
.price{font-weight:700;font-size:18px;color:#1f2328}
.product button{align-self:flex-start;padding:8px 14px;border:1px solid #d0d7de;border-radius:8px;
background:#fff;font:inherit;font-size:14px;cursor:pointer}
.product button:hover{border-color:#1f2328}
.text{max-width:40rem}
.help{margin-top:32px;padding:20px 24px;border-radius:14px;background:#fff;
border:1px dashed #d0d7de}
footer{border-top:1px solid #e5e1da;background:#f3f0eb;color:#57606a;font-size:14px}
footer .inner{max-width:64rem;margin:0 auto;padding:24px 20px;display:flex;flex-wrap:wrap;
gap:12px 32px;justify-content:space-between}
footer p{margin:0}
"""


def _products(products: list[_Product]) -> str:
    items = []
    for product in products:
        name = html.escape(product.name)
        items.append(
            f'<li class="product">{_SHOE.format(name=name, colour=product.colour)}'
            f"<h3>{name}</h3><p>{html.escape(product.blurb)}</p>"
            f'<span class="price">{html.escape(product.price)}</span>'
            # Any button may open the chat: the SDK's command, queued until the chatbox loads.
            "<button type=\"button\" onclick=\"$causerie.push(['do', 'chat:open'])\">"
            "Ask us about it</button></li>"
        )
    return f'<ul class="grid">{"".join(items)}</ul>'


def _home() -> str:
    return (
        '<section class="hero"><h1>Shoes made to walk all day.</h1>'
        "<p>Free delivery from €60, returns within 30 days. Not sure about your size? Ask us in "
        "the chat, bottom right: a real person answers.</p></section>"
        f"<h2>Our favourites</h2>{_products(_PRODUCTS[:3])}"
        '<p class="help">The chat follows you from page to page: open it here, then go to '
        '<a href="/shoes">all shoes</a>, and your conversation is still there.</p>'
    )


def _shoes() -> str:
    return f"<h2>All shoes</h2>{_products(_PRODUCTS)}"


def _delivery() -> str:
    return (
        '<div class="text"><h2>Delivery and returns</h2>'
        "<p>Orders leave our workshop within two working days. Delivery is free from €60, "
        "€4.90 below.</p><p>Changed your mind? Send the shoes back within 30 days, unworn, "
        "and we refund you in full.</p>"
        "<p>A question about an order? Ask in the chat: we answer from 9:00 to 18:00, and by "
        "email after that if you leave your address.</p></div>"
    )


_PAGES = {
    "/": ("Home", _home),
    "/shoes": ("Shoes", _shoes),
    "/delivery": ("Delivery & returns", _delivery),
}


_CURRENT = ' aria-current="page"'


def shop_app(website_id: str, causerie_url: str) -> Starlette:
    """The sample shop: a few pages of a small shoe shop, styled inline, that request nothing
    but the chatbox from Causerie (P1, P16)."""

    async def page(request: Request) -> HTMLResponse:
        path = request.url.path
        title, body = _PAGES[path]
        links = "".join(
            f'<a href="{href}"{_CURRENT if href == path else ""}>{html.escape(name)}</a>'
            for href, (name, _) in _PAGES.items()
        )
        return HTMLResponse(
            f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} · {DEMO_NAME}</title>
<link rel="icon" href="data:,">
<style>{_STYLE}</style>
</head><body>
<p class="bar">A Causerie demo: nothing here is for sale. Try the chat, bottom right.</p>
<header class="top"><a class="logo" href="/">Demo<span>.</span>shop</a>
<nav class="main" aria-label="Shop">{links}</nav><span class="bag">Bag (0)</span></header>
<main>{body()}</main>
<footer><div class="inner">
<p><strong>{DEMO_NAME}</strong> · 12 rue des Lilas, 69001 Lyon · hello@shop.example</p>
<p>This page loads nothing from any other site; the chat comes from your Causerie server.</p>
</div></footer>
<script>window.$causerie = window.$causerie || [];
window.CAUSERIE_WEBSITE_ID = "{website_id}";</script>
<script src="{causerie_url}/widget.js" async></script>
</body></html>"""
        )

    return Starlette(routes=[Route(path, page) for path in _PAGES])


async def prepare(rt: Runtime, shop_origin: str) -> tuple[Website, str, str]:
    """The demo website (created once), and for its demo operator a fresh password (the demo
    runs on one's own machine: each start prints a password that works) and API token."""
    async with rt.store.transaction() as tx:
        existing = [w for w in await tx.websites.list_all() if w.name == DEMO_NAME]
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
    settings: Settings, website_id: str, causerie_url: str, sockets: list[socket.socket]
) -> None:
    """Serve Causerie on `sockets[0]` and the shop on `sockets[1]` (bound by the caller)."""
    options = uvicorn_options(settings)
    servers = [
        uvicorn.Server(uvicorn.Config(create_app(settings), **options)),
        uvicorn.Server(
            uvicorn.Config(
                shop_app(website_id, causerie_url),
                log_config=options["log_config"],
                access_log=False,
            )
        ),
    ]
    await asyncio.gather(
        *(server.serve(sockets=[sock]) for server, sock in zip(servers, sockets, strict=True))
    )
