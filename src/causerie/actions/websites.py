"""Websites: created by an administrator with the origins that may embed the chatbox."""

from __future__ import annotations

from causerie.actions.audit import do_audit
from causerie.domain.errors import Invalid
from causerie.domain.models import Actor, Website
from causerie.domain.websites import normalize_origin
from causerie.runtime import Runtime
from causerie.tokens import new_id


def check_website(name: str, origins: list[str]) -> tuple[str, tuple[str, ...]]:
    name = name.strip()
    if not name or len(name) > 200:
        raise Invalid("a website name is 1 to 200 characters", "invalid_name")
    if not origins:
        raise Invalid("a website needs at least one origin", "invalid_origin")
    return name, tuple(dict.fromkeys(normalize_origin(o) for o in origins))


async def do_create_website(rt: Runtime, actor: Actor, name: str, origins: list[str]) -> Website:
    name, clean = check_website(name, origins)
    website = Website(id=new_id(), name=name, origins=clean, settings={}, created_at=rt.clock.now())
    async with rt.store.transaction() as tx:
        await tx.insert_website(website)
        await do_audit(
            rt,
            tx,
            actor,
            "website.create",
            target_type="website",
            target_id=website.id,
            website_id=website.id,
        )
    return website


async def get_all_origins(rt: Runtime) -> frozenset[str]:
    """Every origin any website allows: what a CORS preflight without a website id may grant."""
    async with rt.store.read() as tx:
        return frozenset(o for website in await tx.list_websites() for o in website.origins)


async def get_website(rt: Runtime, website_id: str) -> Website | None:
    async with rt.store.read() as tx:
        return await tx.get_website(website_id)
