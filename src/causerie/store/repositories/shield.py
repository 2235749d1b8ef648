"""`SqlShield`: block rules, and the per-network counts kept in the store without Redis (P18)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, or_, select, update

from causerie.domain.shield import BlockKind, BlockRule
from causerie.store.db import SqlRepository
from causerie.store.schema.chat import conversations
from causerie.store.schema.shield import block_rules, shield_counts


def _rule(row: Any) -> BlockRule:
    return BlockRule(
        id=row.id,
        website_id=row.website_id,
        kind=BlockKind(row.kind),
        value=row.value,
        reason=row.reason,
        created_at=row.created_at,
        created_by=row.created_by,
        expires_at=row.expires_at,
        ip_seen_at=row.ip_seen_at,
    )


class SqlShield(SqlRepository):
    __slots__ = ()

    async def insert_rule(self, rule: BlockRule) -> None:
        await self._db.execute(
            block_rules.insert().values(
                id=rule.id,
                website_id=rule.website_id,
                kind=rule.kind.value,
                value=rule.value,
                reason=rule.reason,
                created_at=rule.created_at,
                created_by=rule.created_by,
                expires_at=rule.expires_at,
                ip_seen_at=rule.ip_seen_at,
            )
        )

    async def get_rule(self, rule_id: str) -> BlockRule | None:
        row = await self._db.one(select(block_rules).where(block_rules.c.id == rule_id))
        return _rule(row) if row is not None else None

    async def list_rules(self, website_id: str | None) -> list[BlockRule]:
        where = (
            block_rules.c.website_id.is_(None)
            if website_id is None
            else block_rules.c.website_id == website_id
        )
        stmt = select(block_rules).where(where).order_by(block_rules.c.created_at.desc())
        return [_rule(row) for row in await self._db.execute(stmt)]

    async def rules_for(self, website_id: str, now: datetime) -> list[BlockRule]:
        stmt = select(block_rules).where(
            or_(block_rules.c.website_id == website_id, block_rules.c.website_id.is_(None)),
            or_(block_rules.c.expires_at.is_(None), block_rules.c.expires_at > now),
        )
        return [_rule(row) for row in await self._db.execute(stmt)]

    async def delete_rule(self, rule_id: str) -> bool:
        result = await self._db.execute(delete(block_rules).where(block_rules.c.id == rule_id))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def mark_spam(self, conversation_id: str, spam: bool) -> bool:
        """The conversation's `spam` set; whether it changed."""
        result = await self._db.execute(
            update(conversations)
            .where(conversations.c.id == conversation_id, conversations.c.spam.is_(not spam))
            .values(spam=spam)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def add_counts(self, rows: Sequence[tuple[datetime, str, str, int]]) -> None:
        stmt = (
            self._db.insert(shield_counts)
            .values(
                window_start=bindparam("w"),
                network=bindparam("n"),
                metric=bindparam("m"),
                count=bindparam("c"),
            )
            .on_conflict_do_update(
                index_elements=["window_start", "network", "metric"],
                set_={"count": shield_counts.c.count + bindparam("more")},
            )
        )
        for window, network, metric, n in rows:
            await self._db.execute(
                stmt, {"w": window, "n": network, "m": metric, "c": n, "more": n}
            )

    async def read_counts(self, since: datetime) -> list[tuple[datetime, str, str, int]]:
        stmt = select(
            shield_counts.c.window_start,
            shield_counts.c.network,
            shield_counts.c.metric,
            shield_counts.c["count"],
        ).where(shield_counts.c.window_start >= since)
        rows: list[Any] = list(await self._db.execute(stmt))
        return [(row[0], row[1], row[2], int(row[3])) for row in rows]

    async def purge_counts(self, before: datetime) -> int:
        result = await self._db.execute(
            delete(shield_counts).where(shield_counts.c.window_start < before)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
