# ruff: noqa: S608 (the SQL text is made of constants; every value is bound)
"""Local days kept per UTC offset (domain/report_days.py, docs/reports.md "Speed"): the UTC
days' stamps, the days kept, and keeping those a report computed (`SqlReports.keep_days`)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, delete, select, text

from causerie.domain.report_days import MAX_OFFSETS, MAX_ZONES, OffsetDay, day_stamp
from causerie.domain.reports import COUNTS, DURATIONS
from causerie.store.db import Prepared, SqlRepository, dialect_insert
from causerie.store.repositories.report_sql import EPOCH, WEBSITE
from causerie.store.schema.accounts import websites
from causerie.store.schema.reports import report_offset_days, report_zones
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
_OFFSETS_KEPT = (
    select(report_offset_days.c.utc_offset)
    .where(report_offset_days.c.website_id == bindparam("w"))
    .distinct()
)
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


_ZONES = (
    select(report_zones.c.zone)
    .where(report_zones.c.website_id == bindparam("w"))
    .order_by(report_zones.c.asked_at.desc(), report_zones.c.zone)
)
_FORGET_ZONES = text(
    "DELETE FROM report_zones WHERE website_id = :w AND zone NOT IN (SELECT zone FROM"
    " report_zones WHERE website_id = :w ORDER BY asked_at DESC, zone LIMIT :n)"
)


@cache
def _note_zone(dialect: str) -> Prepared:
    stmt = dialect_insert(dialect)(report_zones).values(
        website_id=bindparam("w"), zone=bindparam("z"), asked_at=bindparam("at")
    )
    return Prepared(
        stmt.on_conflict_do_update(
            index_elements=["website_id", "zone"], set_={"asked_at": stmt.excluded.asked_at}
        )
    )


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

    async def keep_days(
        self, website_id: str, days: list[OffsetDay], keep: Collection[int] = ()
    ) -> None:
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
        offsets = {int(row[0]) for row in await self._db.execute(_OFFSETS_KEPT, {"w": website_id})}
        if len(offsets) > MAX_OFFSETS:  # the others go: kept again when asked for again
            used = {day.offset for day in days} | set(keep)
            t = report_offset_days.c
            await self._db.execute(
                delete(report_offset_days).where(
                    t.website_id == website_id, t.utc_offset.not_in(sorted(used))
                )
            )

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

    async def zones(self, website_id: str) -> list[str]:
        found: Any = await self._db.execute(_ZONES, {"w": website_id})
        return [str(row[0]) for row in found]

    async def note_zone(self, website_id: str, zone: str, at: datetime) -> None:
        """Remember that a report was asked in `zone` (the latest `MAX_ZONES` are kept)."""
        await self._db.write(_note_zone(self._db.dialect), {"w": website_id, "z": zone, "at": at})
        await self._db.execute(_FORGET_ZONES, {"w": website_id, "n": MAX_ZONES})


def _utc_at(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
