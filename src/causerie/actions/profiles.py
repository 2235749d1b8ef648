"""Correcting a visitor's profile (P7), from the chatbox (and, later, by agents)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from causerie.actions import shield
from causerie.actions.consent import check_consent
from causerie.actions.events import do_emit_session
from causerie.actions.limits import check_profile_rate
from causerie.actions.sessions import access_visitor_session
from causerie.domain.models import Session
from causerie.domain.ports import Tx
from causerie.domain.profiles import check_email, check_nickname, check_phone, merge_data
from causerie.runtime import Runtime

UNSET: Any = object()


def checked_changes(nickname: Any, email: Any, phone: Any) -> dict[str, Any]:
    """The profile fields given (not `UNSET`), validated; None or "" clears one."""
    changes: dict[str, Any] = {}
    if nickname is not UNSET:
        changes["nickname"] = check_nickname(nickname)
    if email is not UNSET:
        changes["email"] = check_email(email)
    if phone is not UNSET:
        changes["phone"] = check_phone(phone)
    return changes


async def apply_profile(
    rt: Runtime, tx: Tx, session: Session, changes: dict[str, Any], data: dict[str, Any] | None
) -> Session:
    """Store the changes (`data` merged key by key) and tell both sides; nothing if unchanged.
    Merged into the row as stored now, locked: two changes at once both hold (PostgreSQL)."""
    session = await tx.sessions.lock(session.id) or session
    if data is not None:
        changes = {**changes, "data": merge_data(session.data, data)}
    updated = replace(session, **changes)
    if updated == session:
        return session
    await tx.sessions.update_profile(
        session.id,
        nickname=updated.nickname,
        email=updated.email,
        phone=updated.phone,
        data=updated.data,
    )
    await do_emit_session(rt, tx, updated)
    return updated


async def do_update_visitor_profile(
    rt: Runtime,
    *,
    token: str,
    origin: str | None,
    nickname: str | None = UNSET,
    email: str | None = UNSET,
    phone: str | None = UNSET,
    data: dict[str, Any] | None = None,
) -> Session:
    """The visitor changes the fields given (None or "" clears one); `data` is merged."""
    changes = checked_changes(nickname, email, phone)
    async with rt.store.transaction() as tx:
        session = await access_visitor_session(rt, tx, token, origin)
        await check_consent(rt, tx, session)
        await check_profile_rate(rt, session.id, session.ip)
        await shield.check_visitor(rt, session, tx)
        if changes.get("email"):  # an email block rule holds on the address given
            await shield.check_rules(rt, session.website_id, ip=None, email=changes["email"], tx=tx)
        return await apply_profile(rt, tx, session, changes, data)
