"""Correcting a visitor's profile (P7), from the chatbox (and, later, by agents)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from causerie.actions.events import do_emit_session
from causerie.actions.sessions import access_visitor_session
from causerie.domain.models import Session
from causerie.domain.profiles import check_email, check_nickname, check_phone, merge_data
from causerie.runtime import Runtime

_UNSET: Any = object()


async def do_update_visitor_profile(
    rt: Runtime,
    *,
    token: str,
    origin: str | None,
    nickname: str | None = _UNSET,
    email: str | None = _UNSET,
    phone: str | None = _UNSET,
    data: dict[str, Any] | None = None,
) -> Session:
    """Change the fields given (None or "" clears one); `data` is merged key by key."""
    changes: dict[str, Any] = {}
    if nickname is not _UNSET:
        changes["nickname"] = check_nickname(nickname)
    if email is not _UNSET:
        changes["email"] = check_email(email)
    if phone is not _UNSET:
        changes["phone"] = check_phone(phone)
    async with rt.store.transaction() as tx:
        session = await access_visitor_session(rt, tx, token, origin)
        if data is not None:
            changes["data"] = merge_data(session.data, data)
        updated = replace(session, **changes)
        if updated == session:
            return session
        await tx.update_profile(
            session.id,
            nickname=updated.nickname,
            email=updated.email,
            phone=updated.phone,
            data=updated.data,
        )
        await do_emit_session(rt, tx, updated)
    return updated
