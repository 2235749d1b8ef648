"""Reports (docs/reports.md): rollups kept as things happen, read back as a website's report.

The `note_*` functions run inside the transaction of the change they count (a conversation, a
message, a resolution, a rating), so a rollup never counts a change that rolled back nor misses
one that committed. Chatbox loads write nothing on their own (most loads are one read), and new
sessions are temporary (not durable until their first message): both are counted in memory per
node, a new session once its transaction committed, and added every few seconds
(`do_flush_counts`). Every change of a website upserts the same row of its hour, which each
transaction holds until it commits: under a flood of new sessions on PostgreSQL, the messages of
the website's visitors waited in line behind them for that row.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from causerie.actions.access import ANY_ROLE, check_role
from causerie.domain.errors import Invalid, NotFound, shown
from causerie.domain.jobs import Job
from causerie.domain.models import Actor, Conversation, Message, Scope
from causerie.domain.ports import TransactionRaced, Tx
from causerie.domain.progress import QUIET, Progress, stop_if_requested
from causerie.domain.report_days import DAY
from causerie.domain.reports import (
    MAX_DAYS,
    ConversationFacts,
    Dimension,
    Groups,
    HourRow,
    Period,
    build_report,
    changes,
    conversation_rows,
    first_response_rows,
    grouped,
    hour_of,
    message_rows,
    resolution_rows,
)
from causerie.domain.zones import iana_zone
from causerie.runtime import Runtime


async def _add(
    tx: Tx, website_id: str, rows: list[HourRow], conversation: Conversation | None = None
) -> None:
    """Add an event's rows; a conversation's count under its labels and team as well."""
    if conversation is not None:
        rows = rows + grouped(rows, groups_of(conversation))
    for row in rows:
        await tx.reports.add(website_id, row)


def groups_of(conversation: Conversation) -> Groups:
    return Groups(tuple(conversation.labels), conversation.team_id)


async def note_regrouped(tx: Tx, before: Conversation, after: Conversation) -> None:
    """A conversation's labels or team changed: everything it counted so far moves from the
    labels and team it left to those it joined, so that a label's (team's) figures are those of
    the conversations that carry it now, as a rebuild counts them. Call it in the transaction
    that stores the change."""
    was, now = groups_of(before), groups_of(after)
    left = Groups(tuple(x for x in was.labels if x not in now.labels), None)
    joined = Groups(tuple(x for x in now.labels if x not in was.labels), None)
    if was.team_id != now.team_id:
        left, joined = replace(left, team_id=was.team_id), replace(joined, team_id=now.team_id)
    if not (left.group_keys() or joined.group_keys()):
        return
    facts = await tx.reports.facts(after.id)
    if facts is None:
        return
    messages, ratings = await tx.reports.conversation_sources(after.id)
    rows = conversation_rows(facts, messages, ratings)
    for row in grouped(rows, left, -1) + grouped(rows, joined):
        await tx.reports.add(after.website_id, row)


def note_session_created(rt: Runtime, tx: Tx, website_id: str, at: datetime) -> None:
    """A new session, counted in this node's memory once `tx` commits, until the next
    `do_flush_counts`."""
    tx.on_commit(lambda: _count(rt, website_id, at, "sessions_created"))


async def note_conversation_started(
    tx: Tx, conversation: Conversation, *, visitor_started: bool
) -> None:
    await tx.reports.save_facts(
        ConversationFacts(
            conversation_id=conversation.id,
            website_id=conversation.website_id,
            started_at=conversation.created_at,
            visitor_started=visitor_started,
        )
    )
    rows = changes(conversation.created_at, None, {"conversations_started": 1})
    await _add(tx, conversation.website_id, rows, conversation)


async def note_message(tx: Tx, conversation: Conversation, message: Message) -> None:
    """Count a stored message; an agent's first visible answer to a visitor's conversation
    is its first response (counted in the hour the conversation started)."""
    author, kind = message.author.value, message.type.value
    await _add(
        tx,
        conversation.website_id,
        message_rows(message.created_at, author, message.operator_id, kind),
        conversation,
    )
    if author != "operator" or kind == "note":
        return
    facts = await tx.reports.facts(conversation.id)
    if facts is None or not facts.visitor_started or facts.first_response_at is not None:
        return
    answered = replace(
        facts, first_response_at=message.created_at, first_responder_id=message.operator_id
    )
    await tx.reports.save_facts(answered)
    await _add(tx, conversation.website_id, first_response_rows(answered), conversation)


async def note_resolved(
    tx: Tx, conversation: Conversation, *, resolved: bool, by: str | None, at: datetime
) -> None:
    """A conversation resolved (counted in that hour, with its resolution time when it was
    answered) or reopened (its last resolution taken back, wherever it was counted)."""
    facts = await tx.reports.facts(conversation.id)
    if facts is None:
        return
    if facts.resolved_at is not None:  # reopened, or resolved again: the last one goes
        await _add(tx, conversation.website_id, resolution_rows(facts, -1), conversation)
        facts = replace(facts, resolved_at=None, resolved_by=None)
    if resolved:
        facts = replace(facts, resolved_at=at, resolved_by=by)
        await _add(tx, conversation.website_id, resolution_rows(facts), conversation)
    await tx.reports.save_facts(facts)


async def note_rating(
    tx: Tx,
    website_id: str,
    operator_id: str | None,
    at: datetime,
    rating: int,
    replaced: int | None = None,
    conversation: Conversation | None = None,
) -> None:
    """A visitor's rating (1 to 5) of a resolved conversation, for the agent who held it, in
    the hour `at` of its resolution; `replaced`: the rating it replaces (a re-rate of the same
    resolution, which counts once, at its new value).

    The one entry point of ratings into reports: the ratings' feature calls it in the
    transaction that stores a `conversation.rated`, with the `conversation` rated (its labels
    and team count the rating too)."""
    if replaced is None:
        counts = {"ratings_count": 1, "ratings_sum": rating}
    else:
        counts = {"ratings_count": 0, "ratings_sum": rating - replaced}
    await _add(tx, website_id, changes(at, operator_id, counts), conversation)


def note_load(rt: Runtime, website_id: str, now: datetime | None = None) -> None:
    """A chatbox load (at `now`, the clock's by default): counted in this node's memory until
    the next `do_flush_counts`."""
    _count(rt, website_id, rt.clock.now() if now is None else now, "chatbox_loads")


def _count(rt: Runtime, website_id: str, at: datetime, name: str) -> None:
    key = (website_id, hour_of(at), name)
    rt.report_counts[key] = rt.report_counts.get(key, 0) + 1


async def do_flush_counts(rt: Runtime) -> int:
    """Add the loads and new sessions counted in memory to the rollups; how many. A website
    deleted meanwhile is skipped (its rollups went with it)."""
    if not rt.report_counts:
        return 0
    pending = dict(rt.report_counts)
    rt.report_counts.clear()
    by_hour: dict[tuple[str, datetime], dict[str, int]] = {}
    for (website_id, hour, name), count in pending.items():
        by_hour.setdefault((website_id, hour), {})[name] = count
    async with rt.store.transaction(durable=False) as tx:
        known = set(await tx.reports.website_ids())
        for (website_id, hour), counts in sorted(by_hour.items()):
            if website_id in known:
                await _add(tx, website_id, changes(hour, None, counts))
    return sum(pending.values())


async def do_rank_days(rt: Runtime) -> int:
    """Rank the day histograms changed since the last call (docs/reports.md "Speed"): run every
    few seconds by every node with `do_flush_counts`, off the path of the changes themselves.
    Nothing to rank (most passes): one read, no write transaction; on PostgreSQL one node ranks
    at a time, the others return at once."""
    async with rt.store.read() as reader:
        if not await reader.reports.has_days_to_rank():
            return 0
    async with rt.store.transaction(durable=False) as tx:
        return await tx.reports.rank_days()


# The local days kept current off the request path: those of the last two years, in every zone.
KEEP_DAYS = 731
# A pass reads at most this many changed days per table (the rest at the next pass); the days
# are computed a week of UTC days at a time (about 200 local days written in one transaction),
# each its own read, the event loop served between.
_PENDING_AT_MOST = 2000
_DAYS_AT_ONCE = 7


async def do_keep_days(rt: Runtime) -> int:
    """Keep the local days of every zone current off the request path (docs/reports.md "Speed"):
    for the websites whose UTC days changed since the last pass (`pending`), the local days
    holding those days at every whole-hour offset (`CLASSES`), once they are over; then the
    changed days are cleared. So the first report in any zone reads kept days, but the few
    changed in the last seconds and the days of a change of offset. A local day is kept once it
    is over, which happens on the hour whether or not anything changed: those are kept by
    `do_keep_ended_days`, a job on the hour.
    Run every few seconds beside the ranking; how many days were kept."""
    async with rt.store.read() as reader:
        pending = await reader.reports.pending_days(_PENDING_AT_MOST)
    now = int(rt.clock.now().timestamp())
    today = now - now % DAY
    kept = 0
    for website_id, seen in pending.items():
        # Today changes with every event, and the days over that hold its first hours would be
        # computed again at each pass for nothing (the events are in the hour going on): they
        # are kept by the hourly pass below, and a report reads them from their hours meanwhile.
        for first, last in _runs(sorted({at for _, at, _ in seen if at < today})):
            kept += await _keep_span(rt, website_id, first, last + DAY)
        async with rt.store.transaction(durable=False) as tx:
            await tx.reports.clear_pending(website_id, seen)
    return kept


async def do_keep_ended_days(rt: Runtime) -> int:
    """Keep the local days that ended unkept or went stale, of the websites with a rollup in
    the last two days: a local day ends on the hour whether or not anything changed (those
    holding hours of today only then). The periodic job `reports.days`, on the hour: one node
    of all runs it (it read two days of every active website on each node before). How many
    days were kept."""
    now = int(rt.clock.now().timestamp())
    today = now - now % DAY
    async with rt.store.read() as reader:
        active = await reader.reports.websites_active_since(_utc_at(today - 2 * DAY))
    kept = 0
    for website_id in active:
        kept += await _keep_span(rt, website_id, today - 2 * DAY, today + DAY)
    return kept


async def run_keep_ended_days(rt: Runtime, job: Job) -> None:
    await do_keep_ended_days(rt)


async def keep_website_days(rt: Runtime, website_id: str) -> int:
    """Keep every local day of the website's last two years current in every zone (after a
    rebuild); how many days were computed and kept."""
    today = int(rt.clock.now().timestamp()) // DAY * DAY
    return await _keep_span(rt, website_id, today - KEEP_DAYS * DAY, today + DAY)


def _runs(days: list[int]) -> list[tuple[int, int]]:
    """Sorted UTC days (epochs) as runs of consecutive days: (first, last)."""
    runs: list[tuple[int, int]] = []
    for day in days:
        if runs and day == runs[-1][1] + DAY:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


async def _keep_span(rt: Runtime, website_id: str, start: int, end: int) -> int:
    """Keep the local days holding an hour of the UTC days [start, end) (epochs) that are not
    kept at their stamps now, within the last `KEEP_DAYS`, a week of UTC days at a time."""
    now = rt.clock.now()
    today = int(now.timestamp()) // DAY * DAY
    start = max(start, today - KEEP_DAYS * DAY)
    kept = 0
    for first in range(start, end, _DAYS_AT_ONCE * DAY):
        last = min(first + _DAYS_AT_ONCE * DAY, end)
        async with rt.store.long_read() as reader:  # the hours read in a worker thread
            days = await reader.reports.days_to_keep(website_id, _utc_at(first), _utc_at(last), now)
        if days:
            try:
                async with rt.store.transaction(durable=False) as tx:
                    await tx.reports.keep_days(website_id, days)
            except TransactionRaced:  # derived data: the next pass computes them again
                return kept
            kept += len(days)
        await asyncio.sleep(0)
    return kept


def _utc_at(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def check_period(first: str | None, last: str | None, tz: str | None, today: date) -> Period:
    """The period asked for: `from` and `to` as YYYY-MM-DD (inclusive), `tz` an IANA zone.
    Without `to`, today in that zone; without `from`, the 30 days up to `to`; without `tz`,
    UTC. One given empty (`tz=`) is refused as a bad value, not taken as absent."""
    zone = _zone("UTC" if tz is None else tz)
    given = None if first is None else _day(first, "from")  # `from` told first, as it is read
    end = today if last is None else _day(last, "to")
    start = given or max(end - timedelta(days=29), FIRST_DAY)
    if start > end:
        raise Invalid(f"from ({start}) is after to ({end})", "invalid_period")
    if (days := (end - start).days + 1) > MAX_DAYS:
        raise Invalid(
            f"from ({start}) to ({end}{'' if last else ', today'}) is {days} days:"
            f" a report covers at most {MAX_DAYS}",
            "invalid_period",
        )
    return Period(start, end, zone)


# The days a report may name. Past them the period before (the comparison), a zone's offset or
# the day after the last ran off the calendar (year 1 or 9999): a 500, not a refusal.
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2999, 12, 31)


def _day(text: str, name: str) -> date:
    if not text:
        raise Invalid(
            f"{name} is empty: give a date as YYYY-MM-DD, or leave {name} out", "invalid_date"
        )
    try:
        if len(text) != 10:
            raise ValueError(text)
        day = date.fromisoformat(text)
    except ValueError:
        raise Invalid(
            f"{name} must be a date as YYYY-MM-DD, not {shown(text[:40])}", "invalid_date"
        ) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise Invalid(
            f"{name} must be a day from {FIRST_DAY} to {LAST_DAY}, not {day}", "invalid_date"
        )
    return day


def _zone(name: str) -> ZoneInfo:
    if not name:
        raise Invalid(
            "tz is empty: give an IANA time zone such as Europe/Paris, or leave tz out for UTC",
            "invalid_time_zone",
        )
    zone = iana_zone(name)
    if zone is None:  # `localtime`, `posix/...`, a POSIX string such as `EST+5`: not IANA names
        raise Invalid(
            f"tz must be an IANA time zone such as Europe/Paris, not {shown(name[:64])}",
            "invalid_time_zone",
        )
    return zone


async def get_report(
    rt: Runtime,
    actor: Actor,
    website_id: str,
    *,
    first: str | None = None,
    last: str | None = None,
    tz: str | None = None,
    by: str | None = None,
) -> dict[str, Any]:
    """The report of a website over a period, and the previous period's totals: for any member
    of the website; `by` `label` or `team`: with the figures of each. Read from the rollups
    only."""
    period = check_period(first, last, tz, _today(rt, tz))
    breakdown = check_breakdown(by)
    before, offsets = period.previous(), period.offsets()
    async with rt.store.long_read() as tx:
        missing = NotFound(f"no website {shown(website_id)}", "website_not_found")
        await check_role(tx, actor, website_id, ANY_ROLE, Scope.READ, missing=missing)
        found = await tx.reports.summary(
            website_id, period.start, period.end, offsets, breakdown=breakdown
        )
        previous = await tx.reports.summary(
            website_id, before.start, before.end, before.offsets(), full=False
        )
    if found.fresh:  # local days computed from the hours: kept for the next report
        try:
            async with rt.store.transaction(durable=False) as tx:
                await tx.reports.keep_days(website_id, found.fresh)
        except TransactionRaced:  # derived data: the next report computes them again
            pass
    return build_report(period, found, previous, breakdown)


def check_breakdown(by: str | None) -> Dimension | None:
    """`label` or `team` (or nothing): the breakdown asked for."""
    if by is None or by == "":
        return None
    if by not in ("label", "team"):
        raise Invalid(f"by must be label or team, not {shown(by[:20])}", "invalid_breakdown")
    return Dimension(by)


def _today(rt: Runtime, tz: str | None) -> date:
    try:
        return rt.clock.now().astimezone(_zone("UTC" if tz is None else tz)).date()
    except Invalid:
        return rt.clock.now().date()  # the zone is refused by check_period itself


async def do_rebuild(rt: Runtime, website_id: str | None = None, progress: Progress = QUIET) -> int:
    """Rebuild the rollups of one website (or all) from the source rows; how many websites.

    Exact for what the source rows still hold: sessions, conversations, messages and ratings
    removed since (purge, deletion, erasure) are no longer counted. Chatbox loads, which have
    no source row, are kept as they were. One transaction per website; then the local days of
    every zone are kept again (`keep_website_days`).
    """
    async with rt.store.read() as tx:
        ids = await tx.reports.website_ids()
    if website_id is not None:
        if website_id not in ids:
            raise NotFound(f"no website {shown(website_id)}", "website_not_found")
        ids = [website_id]
    done = 0
    progress.begin("websites", len(ids))
    for each in ids:
        stop_if_requested(progress, {"websites": done})
        async with rt.store.transaction() as tx:
            await tx.reports.rebuild(each)
        done += 1
        progress.advance("websites", 1)
    async with rt.store.transaction() as tx:  # every row is new: plan the reads on them
        await tx.reports.refresh_statistics()
    for each in ids[:done]:
        await keep_website_days(rt, each)  # the local days its reports read, kept again
    return done
