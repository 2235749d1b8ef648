"""Statements behind the privacy tools: finding a person's sessions, consent, the audit log,
DPA acceptances. A mixin of `SqlTx` (store/tx.py), which provides `_execute` and `_one`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, or_, select, update

from causerie.domain.models import AuditEntry, DpaAcceptance, Session
from causerie.store import statements
from causerie.store.rows import session_from
from causerie.store.schema import audit_log, dpa_acceptances, operators, sessions
from causerie.store.sql_mixin import SqlMixin


class PrivacySql(SqlMixin):
    async def find_sessions_by_email(
        self, email: str, website_ids: list[str] | None
    ) -> list[Session]:
        stmt = (
            select(*statements.SESSION_COLUMNS)
            .where(func.lower(sessions.c.email) == email.strip().lower())
            .order_by(sessions.c.created_at, sessions.c.id)
        )
        if website_ids is not None:
            stmt = stmt.where(sessions.c.website_id.in_(website_ids))
        return [session_from(row) for row in await self._execute(stmt)]

    async def set_consent(self, session_id: str, version: int | None, at: datetime | None) -> None:
        await self._execute(
            update(sessions)
            .where(sessions.c.id == session_id)
            .values(consent_version=version, consent_at=at)
        )

    async def list_audit(
        self,
        website_id: str,
        *,
        action: str | None,
        actor_id: str | None,
        before: tuple[datetime, str] | None,
        limit: int,
    ) -> list[AuditEntry]:
        # The website's own entries only: what its operators do elsewhere (logins, tokens,
        # other websites, before they joined) is not its owners' business.
        stmt = (
            select(audit_log)
            .where(audit_log.c.website_id == website_id)
            .order_by(audit_log.c.at.desc(), audit_log.c.id.desc())
            .limit(limit)
        )
        if action:
            stmt = stmt.where(audit_log.c.action == action)
        if actor_id:
            stmt = stmt.where(audit_log.c.actor_id == actor_id)
        if before is not None:
            at, last_id = before
            stmt = stmt.where(
                or_(audit_log.c.at < at, and_(audit_log.c.at == at, audit_log.c.id < last_id))
            )
        return [
            AuditEntry(
                id=row.id,
                at=row.at,
                actor_type=row.actor_type,
                actor_id=row.actor_id,
                action=row.action,
                website_id=row.website_id,
                target_type=row.target_type,
                target_id=row.target_id,
                details=dict(row.details),
            )
            for row in await self._execute(stmt)
        ]

    async def insert_dpa(self, acceptance: DpaAcceptance) -> None:
        await self._execute(
            dpa_acceptances.insert().values(
                id=acceptance.id,
                website_id=acceptance.website_id,
                version=acceptance.version,
                operator_id=acceptance.operator_id,
                accepted_at=acceptance.accepted_at,
            )
        )

    async def list_dpa(self, website_id: str) -> list[DpaAcceptance]:
        rows = await self._execute(
            select(dpa_acceptances, operators.c.name.label("operator_name"))
            .outerjoin(operators, operators.c.id == dpa_acceptances.c.operator_id)
            .where(dpa_acceptances.c.website_id == website_id)
            .order_by(dpa_acceptances.c.accepted_at.desc(), dpa_acceptances.c.id)
        )
        return [
            DpaAcceptance(
                id=row.id,
                website_id=row.website_id,
                version=row.version,
                operator_id=row.operator_id,
                accepted_at=row.accepted_at,
                operator_name=row.operator_name,
            )
            for row in rows
        ]
