# ruff: noqa: S608 (the rebuild's SQL text is made of constants; every value is bound)
"""A website's rollups rebuilt from the source rows, set-based (docs/reports.md "Rebuilding").

The database does it all, in a few statements: each conversation's facts from its messages
(the first message by `seq` says whether the visitor opened it, the first agent message that is
not a note answers it; its last resolution is kept, `report_conversations` being its only
record), then the hours summed from sessions, conversations, messages, resolutions and ratings,
copied to the conversation's labels and team, the histograms' buckets from the facts, and the
days, months, days' objects, ranks and hourly starts from the hours (report_writes.py). Each
event counts as `note_*` (actions/reports.py) counts it as it happens: in its UTC hour, for the
website, for the agent when there is one, and for the labels and the team the conversation
carries now; durations in whole seconds, truncated, never below 0, in `bucket`'s buckets.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import bindparam, delete, text

from causerie.domain.reports import COUNTS
from causerie.store.db import SqlRepository
from causerie.store.repositories.report_sql import COUNT_COLUMNS
from causerie.store.schema.reports import report_day_histograms, report_offset_days
from causerie.store.types import UTCDateTime

# The UTC hour of a stored datetime: SQLite keeps them as 'YYYY-MM-DD HH:MM:SS.ffffff' text,
# PostgreSQL as timestamptz (`date_trunc` alone would follow the session's zone).
_HOUR = {
    "sqlite": "substr({0}, 1, 13) || ':00:00.000000'",
    "postgresql": "date_trunc('hour', {0} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'",
}
# Whole seconds from {0} to {1}, truncated and never below 0 (`seconds_between`): on SQLite the
# seconds of each, less one when the later's microseconds are fewer; on PostgreSQL EXTRACT gives
# exact numerics.
_SECONDS = {
    "sqlite": "max(0, CAST(strftime('%s', {1}) AS INTEGER) - CAST(strftime('%s', {0}) AS INTEGER)"
    " - (substr({1}, 21) < substr({0}, 21)))",
    "postgresql": "GREATEST(0, CAST(floor(EXTRACT(EPOCH FROM {1}) - EXTRACT(EPOCH FROM {0}))"
    " AS BIGINT))",
}
_DIFFERS = {"sqlite": "IS NOT", "postgresql": "IS DISTINCT FROM"}
_LABELS = {
    "sqlite": "json_each(c.labels) AS l",
    "postgresql": "jsonb_array_elements_text(c.labels) AS l(value)",
}
# The website's id as a column (PostgreSQL deduces one type per parameter: not text and varchar).
_WEBSITE = "CAST(:w AS VARCHAR)"


def _bucket(seconds: str) -> str:
    """`domain.reports.bucket` in SQL: exact below 128 s, then the 7 leading bits."""
    whens = " ".join(
        f"WHEN {seconds} < {1 << (7 + k)} THEN {seconds} / {1 << k} * {1 << k}" for k in range(56)
    )
    return f"CASE WHEN {seconds} < 128 THEN {seconds} {whens} END"


def _counts(**values: str) -> str:
    """The eight counts of an event, 0 but those given."""
    return ", ".join(f"{values.get(name, '0')} AS {name}" for name in COUNTS)


@cache
def _facts(dialect: str) -> Any:
    """Each conversation's facts from its messages, its last resolution kept (the first message
    and the first answer found by their `seq`, on the index of (conversation, seq))."""
    first = (
        "SELECT m.conversation_id, m.author, m.operator_id, m.created_at FROM messages AS m"
        " JOIN (SELECT conversation_id, MIN(seq) AS seq FROM messages WHERE conversation_id IN"
        " (SELECT id FROM conversations WHERE website_id = :w){0} GROUP BY conversation_id)"
        " AS f ON m.seq = f.seq"
    )
    answered = "fm.author = 'visitor' AND fa.created_at IS NOT NULL"
    return text(
        "INSERT INTO report_conversations (conversation_id, website_id, started_at,"
        " visitor_started, first_response_at, first_responder_id, resolved_at, resolved_by)"
        " SELECT c.id, c.website_id, c.created_at, COALESCE(fm.author = 'visitor', false),"
        f" CASE WHEN {answered} THEN fa.created_at END,"
        f" CASE WHEN {answered} THEN fa.operator_id END,"
        " f.resolved_at, f.resolved_by"
        " FROM conversations AS c"
        f" LEFT JOIN ({first.format('')}) AS fm ON fm.conversation_id = c.id"
        " LEFT JOIN ("
        + first.format(" AND author = 'operator' AND type <> 'note'")
        + ") AS fa ON fa.conversation_id = c.id"
        " LEFT JOIN report_conversations AS f ON f.conversation_id = c.id"
        " WHERE c.website_id = :w"  # (SQLite needs a WHERE before an upsert's ON CONFLICT)
        " ON CONFLICT (conversation_id) DO UPDATE SET started_at = excluded.started_at,"
        " visitor_started = excluded.visitor_started,"
        " first_response_at = excluded.first_response_at,"
        " first_responder_id = excluded.first_responder_id"
        " WHERE "  # only the facts that differ are written
        + " OR ".join(
            f"report_conversations.{name} {_DIFFERS[dialect]} excluded.{name}"
            for name in ("started_at", "visitor_started", "first_response_at", "first_responder_id")
        )
    )


def _spread(events: str, columns: str, dialect: str) -> str:
    """An event's rows (`events`, read once): the website's, the agent's (`op`) when there is
    one, and a copy of the website's for each label and the team of its conversation (`cid`)
    now."""
    return (
        f"WITH e AS MATERIALIZED ({events})"
        f" SELECT 'website' AS dimension, '' AS key, {columns} FROM e"
        f" UNION ALL SELECT 'operator', op, {columns} FROM e WHERE op IS NOT NULL AND op <> ''"
        f" UNION ALL SELECT 'label', l.value, {columns} FROM e"
        f" JOIN conversations AS c ON c.id = e.cid, {_LABELS[dialect]}"
        f" UNION ALL SELECT 'team', c.team_id, {columns} FROM e"
        " JOIN conversations AS c ON c.id = e.cid WHERE c.team_id IS NOT NULL AND c.team_id <> ''"
    )


@cache
def _hours(dialect: str) -> Any:
    """The hours' counts from sessions, conversations, messages, resolutions and ratings."""
    hour = _HOUR[dialect]
    events = " UNION ALL ".join(
        (
            f"SELECT NULL AS cid, NULL AS op, {hour.format('created_at')} AS hour,"
            f" {_counts(sessions_created='1')} FROM sessions WHERE website_id = :w",
            f"SELECT id, NULL, {hour.format('created_at')},"
            f" {_counts(conversations_started='1')} FROM conversations WHERE website_id = :w",
            "SELECT m.conversation_id, CASE WHEN m.author = 'operator' THEN m.operator_id END,"
            f" {hour.format('m.created_at')}, "
            + _counts(
                messages_visitor="CASE WHEN m.author = 'visitor' THEN 1 ELSE 0 END",
                messages_operator="CASE WHEN m.author = 'operator' THEN 1 ELSE 0 END",
            )
            + " FROM messages AS m JOIN conversations AS c ON c.id = m.conversation_id"
            " WHERE c.website_id = :w AND m.type <> 'note'"
            " AND m.author IN ('visitor', 'operator')",
            f"SELECT conversation_id, resolved_by, {hour.format('resolved_at')},"
            f" {_counts(conversations_resolved='1')} FROM report_conversations"
            " WHERE website_id = :w AND resolved_at IS NOT NULL",
            f"SELECT conversation_id, operator_id, {hour.format('resolved_at')},"
            f" {_counts(ratings_count='1', ratings_sum='rating')} FROM ratings"
            " WHERE website_id = :w",
        )
    )
    rows = _spread(events, f"hour, {COUNT_COLUMNS}", dialect)
    sums = ", ".join(f"SUM({name})" for name in COUNTS)
    return text(
        f"INSERT INTO report_hours (website_id, dimension, key, hour, {COUNT_COLUMNS})"
        f" SELECT {_WEBSITE}, dimension, key, hour, {sums} FROM ({rows}) AS r"
        " GROUP BY dimension, key, hour"
    )


@cache
def _buckets(dialect: str) -> Any:
    """The hours' histograms from the facts: first responses in the hour the conversation
    started, resolutions (of answered conversations) in the hour of the resolution."""
    hour, seconds = _HOUR[dialect], _SECONDS[dialect]
    durations = (
        f"SELECT conversation_id AS cid, first_responder_id AS op,"
        f" {hour.format('started_at')} AS hour, 'first_response' AS metric,"
        f" {seconds.format('started_at', 'first_response_at')} AS s"
        " FROM report_conversations WHERE website_id = :w AND first_response_at IS NOT NULL"
        f" UNION ALL SELECT conversation_id, resolved_by, {hour.format('resolved_at')},"
        f" 'resolution', {seconds.format('started_at', 'resolved_at')}"
        " FROM report_conversations WHERE website_id = :w AND resolved_at IS NOT NULL"
        " AND first_response_at IS NOT NULL"
    )
    events = f"SELECT cid, op, hour, metric, {_bucket('s')} AS bucket FROM ({durations}) AS d"
    rows = _spread(events, "hour, metric, bucket", dialect)
    return text(
        "INSERT INTO report_hour_buckets (website_id, dimension, hour, key, metric, bucket, n)"
        f" SELECT {_WEBSITE}, dimension, hour, key, metric, bucket, COUNT(*) FROM ({rows}) AS r"
        " GROUP BY dimension, key, hour, metric, bucket"
    )


# Chatbox loads have no source row: the website's hours' loads are carried over.
_LOADS = text(
    "SELECT hour, chatbox_loads FROM report_hours WHERE website_id = :w"
    " AND dimension = 'website' AND key = '' AND chatbox_loads <> 0"
)


@cache
def _add_loads(dialect: str) -> Any:
    zeros = ", ".join("0" for _ in COUNTS[1:])
    return text(
        f"INSERT INTO report_hours (website_id, dimension, key, hour, {COUNT_COLUMNS})"
        f" VALUES (:w, 'website', '', :hour, :n, {zeros})"
        " ON CONFLICT (website_id, dimension, key, hour)"
        " DO UPDATE SET chatbox_loads = report_hours.chatbox_loads + excluded.chatbox_loads"
    ).bindparams(bindparam("hour", type_=UTCDateTime()))


class ReportRebuild(SqlRepository):
    """The rebuild half of `SqlReports` (its layers above the hours: report_writes.py)."""

    __slots__ = ()

    async def _rebuild_hours(self, website_id: str, emptied: tuple[Any, ...]) -> None:
        """The website's facts and hours from the source rows, once the tables `emptied`
        (every rollup layer) are emptied of it; its chatbox loads carried over."""
        dialect, w = self._db.dialect, {"w": website_id}
        loads: Any = await self._db.execute(_LOADS.columns(hour=UTCDateTime()), w)
        carried = [{"w": website_id, "hour": hour, "n": int(n)} for hour, n in loads]
        await self._db.execute(_facts(dialect), w)
        for table in (*emptied, report_day_histograms, report_offset_days):
            await self._db.execute(delete(table).where(table.c.website_id == website_id))
        await self._db.execute(_hours(dialect), w)
        await self._db.execute(_buckets(dialect), w)
        if carried:
            await self._db.execute(_add_loads(dialect), carried)
