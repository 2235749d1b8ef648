# ruff: noqa: S608 (the SQL text is made of constants; every value is bound)
"""Local days kept per UTC offset (domain/report_days.py, docs/reports.md "Speed"): the UTC
days' stamps, the days kept, and keeping those a report computed (`SqlReports.keep_days`)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, select, text

from causerie.domain.report_days import OffsetDay, day_stamp
from causerie.domain.reports import COUNTS, DURATIONS
from causerie.store.db import Prepared, SqlRepository, dialect_insert
from causerie.store.repositories.report_sql import EPOCH, WEBSITE
from causerie.store.schema.accounts import websites
from causerie.store.schema.reports import report_offset_days
from causerie.store.types import UTCDateTime

RANKS = tuple(f"{metric}_{rank}" for metric in DURATIONS for rank in ("median", "p90"))
_COLUMNS = ("stamp", *COUNTS, *RANKS)


@cache
def _stamps(dialect: str) -> Any:
    """The versions of the website's UTC days in [sd, end): their counts' rows and their
    histograms' rows."""
    day = EPOCH[dialect].format("day")
    return text(
        f"SELECT {day}, 'counts', version FROM report_days"
        f" WHERE {WEBSITE} AND key = '' AND day >= :sd AND day < :end"
        f" UNION ALL SELECT {day}, metric, version FROM report_day_histograms"
        " WHERE website_id = :w AND day >= :sd AND day < :end"
    ).bindparams(bindparam("sd", type_=UTCDateTime()), bindparam("end", type_=UTCDateTime()))


_KEPT = (
    select(report_offset_days.c.utc_offset, report_offset_days.c.day)
    .add_columns(*(report_offset_days.c[name] for name in _COLUMNS))
    .where(
        report_offset_days.c.website_id == bindparam("w"),
        report_offset_days.c.utc_offset.in_(bindparam("offsets", expanding=True)),
        report_offset_days.c.day >= bindparam("d0"),
        report_offset_days.c.day <= bindparam("d1"),
    )
)
# The websites with a rollup since a UTC day: those whose local days may have ended unkept.
_ACTIVE = text(
    "SELECT id FROM websites AS w WHERE EXISTS (SELECT 1 FROM report_days AS d"
    " WHERE d.website_id = w.id AND d.dimension = 'website' AND d.day >= :since)"
).bindparams(bindparam("since", type_=UTCDateTime()))
_WEBSITE_EXISTS = select(websites.c.id).where(websites.c.id == bindparam("w"))
# The website's days changed since their local days were kept (each on its partial index).
_PENDING = (
    ("report_days", "pending AND dimension = 'website' AND key = ''"),
    ("report_day_histograms", "pending"),
)


@cache
def _read_pending(dialect: str, table: str, where: str) -> Any:
    day = EPOCH[dialect].format("day")
    return text(f"SELECT website_id, {day}, version FROM {table} WHERE {where} LIMIT :n")


@cache
def _clear(table: str, where: str) -> Any:
    return text(
        f"UPDATE {table} SET pending = false WHERE website_id = :w AND day = :day"
        f" AND version = :v AND {where}"
    ).bindparams(bindparam("day", type_=UTCDateTime()))


@cache
def _keep(dialect: str) -> Prepared:
    t = report_offset_days
    stmt = dialect_insert(dialect)(t).values(
        website_id=bindparam("w"),
        utc_offset=bindparam("o"),
        day=bindparam("d"),
        **{name: bindparam(name) for name in _COLUMNS},
    )
    return Prepared(
        stmt.on_conflict_do_update(
            index_elements=["website_id", "utc_offset", "day"],
            set_={name: stmt.excluded[name] for name in _COLUMNS},
        )
    )


class OffsetDays(SqlRepository):
    """The local days kept per offset: read by `ReportReads.summary`, kept by `keep_days`."""

    __slots__ = ()

    async def _day_stamps(self, params: dict[str, Any]) -> dict[int, str]:
        """Each UTC day's stamp (`day_stamp`) in [sd, end); a day without rows has none."""
        versions: dict[int, dict[str, int]] = {}
        found: Any = await self._db.execute(_stamps(self._db.dialect), params)
        for day, what, version in found:
            versions.setdefault(int(day), {})[str(what)] = int(version)
        return {day: day_stamp(of) for day, of in versions.items()}

    async def _kept_days(
        self, website_id: str, offsets: set[int], first: int, last: int
    ) -> dict[tuple[int, int], tuple[Any, ...]]:
        """(offset, day) -> (stamp, *counts, *ranks) of the days kept in [first, last]."""
        if not offsets:
            return {}
        params = {"w": website_id, "offsets": sorted(offsets), "d0": first, "d1": last}
        found: Any = await self._db.execute(_KEPT, params)
        return {(int(row[0]), int(row[1])): tuple(row[2:]) for row in found}

    async def keep_days(self, website_id: str, days: list[OffsetDay]) -> None:
        if not days:
            return
        found: Any = await self._db.execute(_WEBSITE_EXISTS, {"w": website_id})
        if found.first() is None:
            return  # the website went meanwhile
        rows = [
            {
                "w": website_id,
                "o": day.offset,
                "d": day.day,
                "stamp": day.stamp,
                **{name: int(day.counts.get(name, 0) or 0) for name in COUNTS},
                **{
                    f"{metric}_{rank}": value
                    for metric in DURATIONS
                    for rank, value in zip(
                        ("median", "p90"), day.ranks.get(metric, (None, None)), strict=True
                    )
                },
            }
            for day in days
        ]
        await self._db.write_many(_keep(self._db.dialect), rows)

    async def websites_active_since(self, since: datetime) -> list[str]:
        found: Any = await self._db.execute(_ACTIVE, {"since": since})
        return [str(row[0]) for row in found]

    async def pending_days(self, limit: int) -> dict[str, list[tuple[str, int, int]]]:
        """Website -> (table, UTC day's epoch, version) of the days changed since their local
        days were last kept (`pending`, on partial indexes), at most `limit` of each table."""
        found: dict[str, list[tuple[str, int, int]]] = {}
        for table, where in _PENDING:
            rows: Any = await self._db.execute(
                _read_pending(self._db.dialect, table, where), {"n": limit}
            )
            for website_id, at, version in rows:
                found.setdefault(str(website_id), []).append((table, int(at), int(version)))
        return found

    async def clear_pending(self, website_id: str, seen: list[tuple[str, int, int]]) -> None:
        """Clear the days `pending_days` gave whose version still holds (a change since sets
        `pending` again and raises it: the next pass sees that day again)."""
        for table, where in _PENDING:
            rows = [
                {"w": website_id, "day": _utc_at(at), "v": version}
                for name, at, version in seen
                if name == table
            ]
            if rows:
                await self._db.execute(_clear(table, where), rows)


def _utc_at(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
