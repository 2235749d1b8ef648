"""Websites: created by an administrator with the origins that may embed the chatbox."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from causerie.actions.access import ANY_ROLE, MANAGERS, OWNERS, check_role
from causerie.actions.audit import do_audit
from causerie.actions.events import do_signal_access_ended
from causerie.actions.file_deletion import do_release_orphan_files
from causerie.actions.jobs import do_enqueue_search_reindex
from causerie.caching import cached
from causerie.domain.access import ACCESS_REVOKED, website_key
from causerie.domain.errors import Forbidden, Invalid, NotFound, Unauthenticated, shown
from causerie.domain.models import Actor, Role, Scope, Website
from causerie.domain.ports import Tx
from causerie.domain.retention import Rule
from causerie.domain.websites import NAME_MAX, check_settings, normalize_origin
from causerie.runtime import Runtime
from causerie.tokens import new_id


def check_website(name: str, origins: list[str]) -> tuple[str, tuple[str, ...]]:
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        raise Invalid(f"name: a website name is 1 to {NAME_MAX} characters", "invalid_name")
    if not origins:
        raise Invalid("origins: a website needs at least one origin", "invalid_origin")
    try:
        return name, tuple(dict.fromkeys(normalize_origin(o) for o in origins))
    except Invalid as exc:
        raise Invalid(f"origins: {exc.message}", exc.code) from None


async def do_create_website(
    rt: Runtime, actor: Actor, name: str, origins: list[str], *, owner_id: str | None = None
) -> Website:
    """Create a website; `owner_id` (an operator creating it) becomes its owner."""
    name, clean = check_website(name, origins)
    now = rt.clock.now()
    website = Website(id=new_id(), name=name, origins=clean, settings={}, created_at=now)
    async with rt.store.transaction() as tx:
        await tx.websites.insert(website)
        if owner_id is not None:
            await tx.members.set_role(website.id, owner_id, Role.OWNER, now)
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
        return frozenset(o for website in await tx.websites.list_all() for o in website.origins)


async def get_website(rt: Runtime, website_id: str) -> Website | None:
    async with rt.store.read() as tx:
        return await tx.websites.get(website_id)


def retention_limits(rt: Runtime) -> dict[str, timedelta | None]:
    """The server's retention for each rule a website may shorten."""
    return {
        Rule.CHAT_IPS.value: rt.settings.chat_ip_retention,
        Rule.RESOLVED_CONVERSATIONS.value: rt.settings.conversation_retention,
        Rule.FILES.value: rt.settings.conversation_retention,
    }


def _missing(website_id: str) -> NotFound:
    return NotFound(f"no website {shown(website_id)}", "website_not_found")


async def do_create_owned_website(
    rt: Runtime, actor: Actor, name: str, origins: list[str]
) -> Website:
    """An operator creates a website and becomes its owner."""
    if actor.operator_id is None:
        raise Unauthenticated("authentication required")
    if Scope.WRITE not in actor.scopes:
        raise Forbidden("this token lacks the 'write' scope", "insufficient_scope")
    if actor.website_ids is not None:
        raise Forbidden("a token limited to some websites cannot create one")
    return await do_create_website(rt, actor, name, origins, owner_id=actor.operator_id)


async def get_my_websites(rt: Runtime, actor: Actor) -> list[tuple[Website, Role]]:
    if actor.operator_id is None:
        raise Unauthenticated("authentication required")
    async with rt.store.read() as tx:
        pairs = await tx.members.list_for_operator(actor.operator_id)
    return [(w, r) for w, r in pairs if actor.website_ids is None or w.id in actor.website_ids]


async def get_website_as(rt: Runtime, actor: Actor, website_id: str) -> tuple[Website, Role]:
    async with rt.store.read() as tx:
        website = await tx.websites.get(website_id)
        if website is None:
            raise _missing(website_id)
        role = await check_role(
            tx, actor, website_id, ANY_ROLE, Scope.READ, missing=_missing(website_id)
        )
    return website, role


async def do_update_website(
    rt: Runtime,
    actor: Actor,
    website_id: str,
    *,
    name: str | None,
    origins: list[str] | None,
    settings: dict[str, Any] | None,
) -> Website:
    async with rt.store.transaction() as tx:
        # Locked: the settings merge with what is stored now, not with what another change
        # under way is replacing (PostgreSQL; both changes hold).
        website = await tx.websites.lock(website_id)
        if website is None:
            raise _missing(website_id)
        await check_role(tx, actor, website_id, MANAGERS, Scope.WRITE, missing=_missing(website_id))
        new_name, new_origins = check_website(
            website.name if name is None else name,
            list(website.origins) if origins is None else origins,
        )
        updated = replace(
            website,
            name=new_name,
            origins=new_origins,
            settings=check_settings(website.settings, settings or {}, retention_limits(rt)),
        )
        if updated == website:
            return website
        await tx.websites.update(updated)
        rt.websites.pop(website_id, None)
        changed = [
            key
            for key, before, after in (
                ("name", website.name, updated.name),
                ("origins", website.origins, updated.origins),
                ("settings", website.settings, updated.settings),
            )
            if before != after
        ]
        await do_audit(
            rt,
            tx,
            actor,
            "website.update",
            target_type="website",
            target_id=website_id,
            website_id=website_id,
            details={"changed": ",".join(changed)},
        )
    return updated


async def do_delete_website(rt: Runtime, actor: Actor, website_id: str) -> int:
    """Destroy the website with every session, conversation and message (owners only); its
    agent sockets close on every node once committed (`access.ended`)."""
    async with rt.store.transaction() as tx:
        if await tx.websites.get(website_id) is None:
            raise _missing(website_id)
        await check_role(tx, actor, website_id, OWNERS, Scope.WRITE, missing=_missing(website_id))
        count = await tx.websites.delete(website_id)
        do_signal_access_ended(rt, tx, ACCESS_REVOKED, [website_key(website_id)])
        rt.websites.pop(website_id, None)
        await do_audit(
            rt,
            tx,
            actor,
            "website.delete",
            target_type="website",
            target_id=website_id,
            website_id=website_id,
            details={"conversations": count},
        )
        await do_enqueue_search_reindex(rt, tx)
        await do_release_orphan_files(rt, tx)
    await rt.store.after_purge()
    return count


async def get_website_cached(rt: Runtime, tx: Tx, website_id: str) -> Website | None:
    """The website, from this node's short cache when fresh (runtime.WEBSITE_CACHE_SECONDS)."""
    website = cached(rt.websites, website_id)
    if website is None:
        website = await tx.websites.get(website_id)
        if website is not None:
            rt.websites[website_id] = website
    return website
