"""Consent (P9): a website may ask visitors to accept its notice before they chat.

The acceptance is stored on the session with the notice's version and time. Without it (never
given, withdrawn, or given for an older notice), nothing is collected from the visitor: their
messages and profile changes are refused with `consent_required`.
"""

from __future__ import annotations

from dataclasses import replace

from causerie.actions.audit import do_audit
from causerie.actions.events import do_emit_session
from causerie.actions.sessions import access_visitor_session
from causerie.actions.websites import get_website_cached
from causerie.domain.errors import Forbidden, Invalid
from causerie.domain.models import Actor, Session, Website
from causerie.domain.ports import Tx
from causerie.runtime import Runtime


async def do_give_consent(rt: Runtime, token: str, origin: str | None, version: int) -> Session:
    """The visitor accepts the website's notice, in the version they were shown."""
    async with rt.store.transaction() as tx:
        session = await access_visitor_session(rt, tx, token, origin)
        website = await tx.websites.get(session.website_id)
        assert website is not None
        current = int(website.settings.get("consent_version") or 0)
        if not website.settings.get("consent_required") or current == 0:
            raise Invalid("this website asks for no consent", "consent_not_asked")
        if version != current:
            raise Invalid(
                f"version: the notice is now version {current}; show it again", "stale_notice"
            )
        now = rt.clock.now()
        await tx.sessions.set_consent(session.id, version, now)
        updated = replace(session, consent_version=version, consent_at=now)
        await do_emit_session(rt, tx, updated)
    return updated


async def do_withdraw_consent(rt: Runtime, token: str, origin: str | None) -> Session:
    """The visitor withdraws consent: nothing more is collected (messages and profile changes
    are refused) until they accept again; erasure stays one call away."""
    async with rt.store.transaction() as tx:
        session = await access_visitor_session(rt, tx, token, origin)
        await tx.sessions.set_consent(session.id, None, None)
        updated = replace(session, consent_version=None, consent_at=None)
        await do_emit_session(rt, tx, updated)
        await do_audit(
            rt,
            tx,
            Actor("visitor"),
            "consent.withdraw",
            target_type="session",
            target_id=session.id,
            website_id=session.website_id,
        )
    return updated


async def check_consent(rt: Runtime, tx: Tx, session: Session) -> None:
    """Refuse collecting from a visitor whose website asks for consent they have not given
    for the current notice (P9)."""
    website = await get_website_cached(rt, tx, session.website_id)
    if website is not None and not _consented(session, website):
        # The cache may predate the notice the visitor just accepted: ask the database.
        rt.websites.pop(session.website_id, None)
        website = await get_website_cached(rt, tx, session.website_id)
    if website is not None and not _consented(session, website):
        raise Forbidden("accept the website's privacy notice first", "consent_required")


def _consented(session: Session, website: Website) -> bool:
    if not website.settings.get("consent_required"):
        return True
    return session.consent_version == website.settings.get("consent_version")
