"""`SqlSessions`: visitors' sessions."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update

from causerie.domain.models import Conversation, PageView, Session, SessionState
from causerie.store import codec, statements
from causerie.store.db import SqlRepository
from causerie.store.schema.chat import sessions

# The tables a kept session and conversation come from.
KEPT_TABLES = frozenset({"sessions", "conversations"})


def kept_session(session_id: str) -> tuple[str, str]:
    """The key of a session and its conversation kept by `SqlSessions` (`Db.keep`)."""
    return ("session with conversation", session_id)


def kept_conversation(conversation_id: str) -> tuple[str, str]:
    """The key of the id of the session whose kept read holds this conversation."""
    return ("session of conversation", conversation_id)


class SqlSessions(SqlRepository):
    __slots__ = ()

    async def get(self, session_id: str) -> Session | None:
        return await self._db.fetch_one(statements.SESSION_BY_ID, {"id": session_id})

    async def lock(self, session_id: str) -> Session | None:
        # FOR NO KEY UPDATE, not read from what the transaction kept: the row as stored now.
        row = await self._db.one(
            select(*codec.SESSION_COLUMNS)
            .where(sessions.c.id == session_id)
            .with_for_update(key_share=True)
        )
        return None if row is None else codec.session(row)

    async def get_by_token(self, token_hash: str, website_id: str | None = None) -> Session | None:
        if website_id is None:
            return await self._db.fetch_one(statements.SESSION_BY_TOKEN, {"token": token_hash})
        return await self._db.fetch_one(
            statements.SESSION_BY_TOKEN_ON_WEBSITE, {"token": token_hash, "website": website_id}
        )

    async def get_many(self, ids: list[str]) -> dict[str, Session]:
        if not ids:
            return {}
        rows = await self._db.execute(select(*codec.SESSION_COLUMNS).where(sessions.c.id.in_(ids)))
        return {row.id: codec.session(row) for row in rows}

    async def get_with_conversation(
        self, session_id: str
    ) -> tuple[Session | None, Conversation | None]:
        kept: tuple[Session | None, Conversation | None] | None = self._db.kept(
            kept_session(session_id)
        )
        if kept is not None:
            return kept
        return (await self._read([session_id]))[session_id]

    async def read_ahead(self, ids: list[str]) -> None:
        await self._read(ids)

    async def _read(self, ids: list[str]) -> dict[str, tuple[Session | None, Conversation | None]]:
        """The sessions of `ids` with their conversations (locked), in one statement, kept for
        the transaction (store/pending.py): a later `get_with_conversation` of one of them
        answers from it, with the conversation's held-back touch applied (conversations.py)."""
        found: dict[str, tuple[Session | None, Conversation | None]] = dict.fromkeys(
            ids, (None, None)
        )
        for start in range(0, len(ids), statements.SESSION_READ_SIZES[-1]):
            chunk = ids[start : start + statements.SESSION_READ_SIZES[-1]]
            size = next(n for n in statements.SESSION_READ_SIZES if n >= len(chunk))
            params = {f"id{i}": chunk[min(i, len(chunk) - 1)] for i in range(size)}
            query = statements.sessions_with_conversations(size)
            for session, conversation in await self._db.fetch_all(query, params):
                found[session.id] = (session, conversation)
        for session_id, pair in found.items():
            self._db.keep(kept_session(session_id), pair, KEPT_TABLES)
            if pair[1] is not None:
                self._db.keep(kept_conversation(pair[1].id), session_id, KEPT_TABLES)
        return found

    async def find_by_email(self, email: str, website_ids: list[str] | None) -> list[Session]:
        stmt = (
            select(*codec.SESSION_COLUMNS)
            .where(func.lower(sessions.c.email) == email.strip().lower())
            .order_by(sessions.c.created_at, sessions.c.id)
        )
        if website_ids is not None:
            stmt = stmt.where(sessions.c.website_id.in_(website_ids))
        return [codec.session(row) for row in await self._db.execute(stmt)]

    async def insert(self, session: Session, token_hash: str) -> None:
        await self._db.write(
            statements.INSERT_SESSION,
            {
                "id": session.id,
                "website_id": session.website_id,
                "token_hash": token_hash,
                "state": session.state.value,
                "created_at": session.created_at,
                "last_access_at": session.last_access_at,
                "permanent_since": session.permanent_since,
                "ip": session.ip,
                "ip_seen_at": session.ip_seen_at,
                "user_agent": session.user_agent,
                "locale": session.locale,
                "timezone": session.timezone,
                "page_url": session.page_url,
                "page_title": session.page_title,
                "page_referrer": session.page_referrer,
                "nickname": session.nickname,
                "email": session.email,
                "phone": session.phone,
                "data": session.data,
            },
        )

    async def record_visit(
        self,
        session_id: str,
        *,
        last_access_at: datetime,
        ip: str | None,
        page: PageView | None,
    ) -> None:
        params: dict[str, Any] = {"v_session": session_id, "v_at": last_access_at, "v_ip": ip}
        if page is not None:
            params.update(
                v_url=page.url,
                v_title=page.title,
                v_referrer=page.referrer,
                v_user_agent=page.user_agent,
                v_locale=page.locale,
                v_timezone=page.timezone,
            )
        await self._db.write(statements.RECORD_VISIT[ip is not None, page is not None], params)

    async def make_permanent(self, session_id: str, at: datetime) -> None:
        """Permanent from `at` if still temporary; its kept read (`read_ahead`) follows."""
        db = self._db
        changed = await db.write(statements.MAKE_PERMANENT, {"p_session": session_id, "p_at": at})
        kept: tuple[Session | None, Conversation | None] | None = db.kept(kept_session(session_id))
        if kept is None:
            return
        session, conversation = kept
        if not changed or session is None or session.state is not SessionState.TEMPORARY:
            db.forget_kept()  # not what was read: read it again
            return
        permanent = replace(session, state=SessionState.PERMANENT, permanent_since=at)
        db.keep(kept_session(session_id), (permanent, conversation), KEPT_TABLES)

    async def update_profile(
        self,
        session_id: str,
        *,
        nickname: str | None,
        email: str | None,
        phone: str | None,
        data: dict[str, Any],
    ) -> None:
        await self._db.execute(
            update(sessions)
            .where(sessions.c.id == session_id)
            .values(nickname=nickname, email=email, phone=phone, data=data)
        )

    async def set_consent(self, session_id: str, version: int | None, at: datetime | None) -> None:
        await self._db.execute(
            update(sessions)
            .where(sessions.c.id == session_id)
            .values(consent_version=version, consent_at=at)
        )

    async def delete(self, session_id: str) -> bool:
        result = await self._db.execute(delete(sessions).where(sessions.c.id == session_id))
        return bool(result.rowcount)  # type: ignore[attr-defined]
