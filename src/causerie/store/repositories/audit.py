"""`SqlAudit`: the audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select

from causerie.domain.models import AuditEntry
from causerie.store import codec
from causerie.store.db import SqlRepository
from causerie.store.schema.upkeep import audit_log


class SqlAudit(SqlRepository):
    __slots__ = ()

    async def insert(self, entry: AuditEntry) -> None:
        await self._db.execute(
            audit_log.insert().values(
                id=entry.id,
                at=entry.at,
                actor_type=entry.actor_type,
                actor_id=entry.actor_id,
                action=entry.action,
                website_id=entry.website_id,
                target_type=entry.target_type,
                target_id=entry.target_id,
                details=entry.details,
            )
        )

    async def list_page(
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
        return [codec.audit_entry(row) for row in await self._db.execute(stmt)]
