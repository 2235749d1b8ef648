"""`SqlRetention`: what the purge finds and destroys, and the record of its runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Executable,
    FromClause,
    Select,
    delete,
    func,
    literal_column,
    or_,
    select,
    update,
)

from causerie.domain.models import ConversationState, SessionState
from causerie.domain.retention import Rule
from causerie.store.db import SqlRepository
from causerie.store.schema.accounts import account_links, logins
from causerie.store.schema.chat import conversations, sessions
from causerie.store.schema.notifications import webhook_deliveries
from causerie.store.schema.shield import block_rules
from causerie.store.schema.upkeep import audit_log, purge_runs


class _RuleTables(NamedTuple):
    """The tables the retention rules read (`SqlTx._expired_ids`), or aliases of them."""

    logins: FromClause
    links: FromClause
    audit: FromClause
    conversations: FromClause
    sessions: FromClause
    deliveries: FromClause
    blocks: FromClause


_TABLES = (
    logins,
    account_links,
    audit_log,
    conversations,
    sessions,
    webhook_deliveries,
    block_rules,
)
_RULE_TABLES = _RuleTables(*_TABLES)
# The same, to check a rule again on rows of the table a purge removes them from.
_STILL = _RuleTables(*(t.alias(f"still_{t.name}") for t in _TABLES))


def _expired_ids(
    rule: Rule,
    cutoff: datetime,
    website_id: str | None,
    newer_than: datetime | None = None,
    t: _RuleTables = _RULE_TABLES,
    copied_before: datetime | None = None,
) -> tuple[Select[Any], ColumnElement[Any]]:
    """Ids of what `rule` expires at `cutoff` (the statement, and its id column); with
    `newer_than`, only rows past it (a website's stricter rule counts what the server's own
    cut-off does not already take). `copied_before`: see `_expired_blocks`."""
    if rule is Rule.EXPIRED_LOGINS:
        return select(t.logins.c.id).where(t.logins.c.expires_at <= cutoff), t.logins.c.id
    if rule is Rule.EXPIRED_LINKS:
        return select(t.links.c.id).where(t.links.c.expires_at <= cutoff), t.links.c.id
    if rule is Rule.AUDIT_ENTRIES:
        return select(t.audit.c.id).where(t.audit.c.at <= cutoff), t.audit.c.id
    if rule is Rule.WEBHOOK_DELIVERIES:
        d = t.deliveries
        return select(d.c.id).where(d.c.created_at <= cutoff), d.c.id
    if rule is Rule.EXPIRED_BLOCKS:
        return _expired_blocks(t.blocks, cutoff, website_id, newer_than, copied_before)
    if rule is Rule.RESOLVED_CONVERSATIONS:
        c = t.conversations
        # The state as a constant, as the partial index names it (`RESOLVED_ONLY`), so that
        # PostgreSQL uses that index in a generic plan too.
        stmt = select(c.c.session_id.label("id")).where(
            c.c.state == literal_column(f"'{ConversationState.RESOLVED.value}'"),
            c.c.updated_at <= cutoff,
        )
        if website_id is not None:
            stmt = stmt.where(c.c.website_id == website_id)
        if newer_than is not None:
            stmt = stmt.where(c.c.updated_at > newer_than)
        return stmt, c.c.session_id
    s = t.sessions
    if rule is Rule.TEMPORARY_SESSIONS:
        stmt = select(s.c.id).where(
            s.c.state == SessionState.TEMPORARY.value, s.c.last_access_at <= cutoff
        )
    else:
        stmt = select(s.c.id).where(s.c.ip_seen_at <= cutoff)
        if newer_than is not None:
            stmt = stmt.where(s.c.ip_seen_at > newer_than)
    if website_id is not None:
        stmt = stmt.where(s.c.website_id == website_id)
    return stmt, s.c.id


def _expired_blocks(
    b: FromClause,
    cutoff: datetime,
    website_id: str | None,
    newer_than: datetime | None,
    copied_before: datetime | None,
) -> tuple[Select[Any], ColumnElement[Any]]:
    """Block rules past their expiry (`cutoff`), and the rules "block this visitor" made whose
    copied address was recorded before `copied_before` (the chat IP cut-off, P18): whatever
    their own expiry, a copy goes when the session's address goes, by the retention as it is
    now. For one website (its own stricter chat IP retention), only the copies the server's
    pass left: recorded after `newer_than` and not past their expiry."""
    expired = b.c.expires_at <= cutoff
    if website_id is None:
        if copied_before is not None:
            expired = or_(expired, b.c.ip_seen_at <= copied_before)
        return select(b.c.id).where(expired), b.c.id
    stmt = select(b.c.id).where(b.c.website_id == website_id)
    if copied_before is None:
        return stmt.where(expired), b.c.id
    stmt = stmt.where(
        b.c.ip_seen_at <= copied_before,
        or_(b.c.expires_at.is_(None), b.c.expires_at > cutoff),
    )
    if newer_than is not None:
        stmt = stmt.where(b.c.ip_seen_at > newer_than)
    return stmt, b.c.id


class SqlRetention(SqlRepository):
    __slots__ = ()

    async def count_expired(
        self,
        rule: Rule,
        cutoff: datetime,
        website_id: str | None = None,
        newer_than: datetime | None = None,
        *,
        copied_before: datetime | None = None,
    ) -> int:
        ids, _ = _expired_ids(rule, cutoff, website_id, newer_than, copied_before=copied_before)
        row = await self._db.one(select(func.count()).select_from(ids.subquery()))
        return int(row[0]) if row else 0

    async def list_expired(
        self,
        rule: Rule,
        cutoff: datetime,
        limit: int,
        website_id: str | None = None,
        newer_than: datetime | None = None,
        *,
        copied_before: datetime | None = None,
    ) -> list[str]:
        expired, _ = _expired_ids(rule, cutoff, website_id, newer_than, copied_before=copied_before)
        return [str(row[0]) for row in await self._db.execute(expired.limit(limit))]

    async def purge_expired(
        self,
        rule: Rule,
        cutoff: datetime,
        ids: list[str],
        website_id: str | None = None,
        newer_than: datetime | None = None,
        *,
        copied_before: datetime | None = None,
    ) -> int:
        # The rule's condition again, on each listed row (an alias of its table, correlated by
        # id): a row listed by a read may have changed since (a temporary session visited
        # again, a conversation reopened). Written so, the rows are found by primary key; the
        # rule's own index would make SQLite walk every expired row for each batch.
        expired, key = _expired_ids(rule, cutoff, website_id, newer_than, _STILL, copied_before)
        target = {
            Rule.EXPIRED_LOGINS: logins,
            Rule.EXPIRED_LINKS: account_links,
            Rule.AUDIT_ENTRIES: audit_log,
            Rule.WEBHOOK_DELIVERIES: webhook_deliveries,
            Rule.EXPIRED_BLOCKS: block_rules,
        }.get(rule, sessions)
        where = (target.c.id.in_(ids), expired.where(key == target.c.id).exists())
        stmt: Executable
        if rule is Rule.CHAT_IPS:
            stmt = update(sessions).where(*where).values(ip=None, ip_seen_at=None)
        else:
            stmt = delete(target).where(*where)
        result = await self._db.execute(stmt)
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def record_run(self, at: datetime, dry_run: bool, counts: dict[str, int]) -> None:
        await self._db.execute(purge_runs.insert().values(at=at, dry_run=dry_run, counts=counts))
