"""Reports (docs/reports.md): rollups kept as things happen, summed into local days of any zone,
rebuilt exactly from the source rows, aggregates only (P3)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import text

from causerie.actions.inbox import do_set_state
from causerie.actions.messages import do_send_operator_message, do_send_visitor_message
from causerie.actions.privacy import do_erase_subject
from causerie.actions.profiles import do_update_visitor_profile
from causerie.actions.ratings import do_rate_conversation
from causerie.actions.reports import do_flush_counts, do_rank_days, do_rebuild, get_report
from causerie.actions.sessions import do_open_session
from causerie.clock import ManualClock
from causerie.domain.models import Actor, ConversationState, PageView
from causerie.domain.reports import Dimension, HourRow, Period, bucket, percentile
from tests.conftest import ORIGIN, Harness, ServerThread, Site
from tests.support import is_sqlite, sqlite_path

PARIS = ZoneInfo("Europe/Paris")


def test_buckets_are_exact_below_128_seconds_and_within_2_percent_above() -> None:
    assert [bucket(s) for s in (0, 1, 127)] == [0, 1, 127]
    for seconds in (128, 1000, 3601, 86_400 * 30):
        assert 0 <= seconds - bucket(seconds) <= seconds / 64
    assert percentile({}, 50) is None
    assert percentile({30: 1, 100: 1, 200: 1}, 50) == 100
    assert percentile({30: 1, 100: 1, 200: 1}, 90) == 200
    assert percentile({10: 9, 500: 1}, 90) == 10  # nearest rank: the 9th of 10
    assert percentile({10: 9, 500: 1, 7: 0}, 91) == 500


def test_days_of_daylight_saving_and_half_hour_zones_are_whole_utc_hours() -> None:
    spring = Period(date(2026, 3, 29), date(2026, 3, 29), PARIS)
    assert (spring.end - spring.start) == timedelta(hours=23)
    assert spring.start == datetime(2026, 3, 28, 23, tzinfo=UTC)
    autumn = Period(date(2026, 10, 25), date(2026, 10, 25), PARIS)
    assert (autumn.end - autumn.start) == timedelta(hours=25)
    kolkata = Period(date(2026, 3, 1), date(2026, 3, 1), ZoneInfo("Asia/Kolkata"))
    # Local midnight is 18:30 UTC: the day starts with the UTC hour it falls in.
    assert kolkata.start == datetime(2026, 2, 28, 18, tzinfo=UTC)
    assert kolkata.day_of(datetime(2026, 2, 28, 18, tzinfo=UTC)) == date(2026, 3, 1)
    assert kolkata.day_of(datetime(2026, 2, 28, 17, tzinfo=UTC)) == date(2026, 2, 28)
    assert spring.previous() == Period(date(2026, 3, 28), date(2026, 3, 28), PARIS)


class Scene:
    """Conversations around the spring change of Europe/Paris, made through the actions."""

    def __init__(self, harness: Harness, site: Site) -> None:
        self.h, self.site, self.rt = harness, site, harness.rt
        self.clock: ManualClock = harness.clock  # type: ignore[assignment]
        self.agent = Actor("operator", site.operator_ids["agent"])
        self.admin = Actor("operator", site.operator_ids["admin"])
        self.owner = Actor("operator", site.operator_ids["owner"])
        self.tokens: dict[str, str] = {}  # conversation id -> its visitor's token

    def at(self, when: datetime) -> None:
        self.clock.advance(when - self.clock.now())

    def visitor(self, when: datetime, email: str | None = None) -> tuple[str, str]:
        """A new visitor writes at `when`: (token, conversation id)."""
        self.at(when)
        opened = self.h.run(
            do_open_session(
                self.rt,
                website_id=self.site.website_id,
                token=None,
                page=PageView(url="https://shop.example/"),
                ip="203.0.113.9",
                origin=ORIGIN,
            )
        )
        if email:
            self.h.run(
                do_update_visitor_profile(
                    self.rt, token=opened.token, origin=ORIGIN, email=email, nickname="Zoé"
                )
            )
        conversation_id = self.write(opened.token, when)
        self.tokens[conversation_id] = opened.token
        return opened.token, conversation_id

    def write(self, token: str, when: datetime) -> str:
        self.at(when)
        sent = self.h.run(
            do_send_visitor_message(
                self.rt, token=token, origin=ORIGIN, client_id=f"v{when.timestamp()}", body="hi"
            )
        )
        return sent.message.conversation_id

    def answer(self, actor: Actor, conversation: str, when: datetime, type_: str = "text") -> None:
        self.at(when)
        self.h.run(
            do_send_operator_message(
                self.rt,
                actor,
                client_id=f"o{when.timestamp()}",
                body="hello",
                type_=type_,
                conversation_id=conversation,
            )
        )

    def resolve(self, actor: Actor, conversation: str, when: datetime, open_: bool = False) -> None:
        self.at(when)
        state = ConversationState.OPEN if open_ else ConversationState.RESOLVED
        self.h.run(do_set_state(self.rt, actor, conversation, state))

    def play(self) -> dict[str, str]:
        s = timedelta(seconds=1)
        a_at = datetime(2026, 3, 28, 10, tzinfo=UTC)  # 11:00 in Paris (UTC+1)
        _, a = self.visitor(a_at, email="ada@mail.example")
        self.answer(self.agent, a, a_at + 30 * s)
        self.resolve(self.agent, a, a_at + 600 * s)
        b_at = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)  # 00:30 on the 29th in Paris
        _, b = self.visitor(b_at)
        self.answer(self.admin, b, b_at + 100 * s)
        d_at = datetime(2026, 3, 29, 21, 30, tzinfo=UTC)  # 23:30 on the 29th (UTC+2 now)
        d_token, d = self.visitor(d_at)
        self.answer(self.agent, d, d_at + 10 * s, type_="note")  # a note answers nobody
        self.answer(self.agent, d, d_at + 200 * s)
        self.resolve(self.agent, d, d_at + 300 * s)
        self.write(d_token, d_at + 400 * s)  # reopens: the resolution at +300 is taken back
        self.resolve(self.agent, d, d_at + 1000 * s)
        c_at = datetime(2026, 3, 29, 22, 30, tzinfo=UTC)  # 00:30 on the 30th in Paris
        _, c = self.visitor(c_at)
        self.resolve(self.owner, c, c_at + 50 * s)  # unanswered: no resolution time
        self.h.run(do_flush_counts(self.rt))
        return {"a": a, "b": b, "c": c, "d": d}

    def report(self, first: str, last: str, tz: str) -> dict[str, Any]:
        owner = self.owner
        return self.h.run(
            get_report(self.rt, owner, self.site.website_id, first=first, last=last, tz=tz)
        )

    def rollups(self) -> list[tuple[Any, ...]]:
        """Every hourly and daily row: (layer, dimension, key, at, the counts...)."""
        return rollup_rows(self.h)

    def buckets(self) -> list[tuple[Any, ...]]:
        """Every histogram bucket row: (layer, dimension, key, at, metric, bucket, n)."""
        return bucket_rows(self.h)


def rollup_rows(h: Harness) -> list[tuple[Any, ...]]:
    counts = (
        "chatbox_loads, sessions_created, conversations_started, conversations_resolved,"
        " messages_visitor, messages_operator, ratings_count, ratings_sum"
    )
    return [
        *h.rows(f"SELECT 'h', dimension, key, hour, {counts} FROM report_hours ORDER BY 2, 3, 4"),
        *h.rows(f"SELECT 'd', dimension, key, day, {counts} FROM report_days ORDER BY 2, 3, 4"),
    ]


def started_rows(h: Harness) -> list[tuple[Any, ...]]:
    """The website's days' conversations started per UTC hour, which must add up to the day's
    count and be its hours' counts."""
    rows = h.rows(
        "SELECT day, started_hours, conversations_started FROM report_days"
        " WHERE dimension = 'website' AND started_hours IS NOT NULL ORDER BY day"
    )
    hours = {
        _utc(at): n
        for at, n in h.rows(
            "SELECT hour, conversations_started FROM report_hours"
            " WHERE dimension = 'website' AND conversations_started <> 0"
        )
    }
    found = []
    for at, started, count in rows:
        day = _utc(at)
        per_hour = json.loads(started) if isinstance(started, str) else started
        assert sum(per_hour) == count
        for i, n in enumerate(per_hour):
            assert hours.get(day + timedelta(hours=i), 0) == n, (day, i)
        found.append((day, per_hour))
    assert found, "no day with conversations started"
    return found


def _utc(at: Any) -> datetime:
    """A datetime as read by a text query: ISO text in UTC on SQLite, aware on PostgreSQL."""
    return datetime.fromisoformat(at).replace(tzinfo=UTC) if isinstance(at, str) else at


def bucket_rows(h: Harness) -> list[tuple[Any, ...]]:
    columns = "dimension, key, {0}, metric, bucket, n"
    return [
        *h.rows(
            f"SELECT 'h', {columns.format('hour')} FROM report_hour_buckets WHERE n <> 0"
            " ORDER BY 2, 3, 4, 5, 6"
        ),
        *h.rows(
            f"SELECT 'd', {columns.format('day')} FROM report_day_buckets WHERE n <> 0"
            " ORDER BY 2, 3, 4, 5, 6"
        ),
        *h.rows(
            f"SELECT 'm', {columns.format('month')} FROM report_month_buckets WHERE n <> 0"
            " ORDER BY 2, 3, 4, 5, 6"
        ),
        *day_histogram_rows(h),
    ]


def day_histogram_rows(h: Harness) -> list[tuple[Any, ...]]:
    """The website's day histograms kept as JSON objects, as bucket rows (buckets at 0 left out:
    a reopening leaves its bucket at 0 where a rebuild has none); the median and 90th percentile
    kept with each, when ranked, must be those of its buckets."""
    rows = []
    query = "SELECT day, metric, hist, median, p90 FROM report_day_histograms"
    for day, metric, hist, median, p90 in h.rows(query):
        found = json.loads(hist) if isinstance(hist, str) else hist
        rows += [("j", "website", "", day, metric, int(b), n) for b, n in found.items() if n]
        counts = {int(b): n for b, n in found.items()}
        if median is not None:  # ranked since its last change (`do_rank_days`)
            assert (median, p90) == (percentile(counts, 50), percentile(counts, 90)), day
    return sorted(rows)


def test_report_of_local_days_across_the_spring_change(harness: Harness, site: Site) -> None:
    scene = Scene(harness, site)
    scene.play()
    report = scene.report("2026-03-28", "2026-03-30", "Europe/Paris")
    days = {day["date"]: day for day in report["days"]}
    assert list(days) == ["2026-03-28", "2026-03-29", "2026-03-30"]
    assert days["2026-03-28"] | {} == {
        "date": "2026-03-28",
        "chatbox_loads": 1,
        "sessions_created": 1,
        "conversations_started": 1,
        "conversations_resolved": 1,
        "messages_visitor": 1,
        "messages_operator": 1,
        "first_response_median": 30,
        "first_response_p90": 30,
        "resolution_median": 600,
        "resolution_p90": 600,
        "ratings_count": 0,
        "ratings_average": None,
    }
    spring = days["2026-03-29"]  # 23 hours: b at 00:30, d at 23:30, d resolved at 23:46
    assert (spring["sessions_created"], spring["messages_visitor"]) == (2, 3)
    assert (spring["messages_operator"], spring["conversations_resolved"]) == (2, 1)
    assert (spring["first_response_median"], spring["first_response_p90"]) == (100, 200)
    assert (spring["resolution_median"], spring["resolution_p90"]) == (1000, 1000)
    assert days["2026-03-30"]["conversations_resolved"] == 1
    assert days["2026-03-30"]["resolution_median"] is None  # resolved unanswered
    totals = report["totals"]
    assert (totals["chatbox_loads"], totals["sessions_created"]) == (4, 4)
    assert (totals["conversations_started"], totals["conversations_resolved"]) == (4, 3)
    assert (totals["first_response_median"], totals["first_response_p90"]) == (100, 200)
    assert (totals["resolution_median"], totals["resolution_p90"]) == (600, 1000)
    agents = {a["operator_id"]: a for a in report["agents"]}
    agent = agents[site.operator_ids["agent"]]
    assert (agent["messages_operator"], agent["conversations_resolved"]) == (2, 2)
    assert (agent["first_response_median"], agent["first_response_p90"]) == (30, 200)
    assert agents[site.operator_ids["admin"]]["first_response_median"] == 100
    assert agents[site.operator_ids["owner"]]["conversations_resolved"] == 1
    assert sum(map(sum, report["heatmap"])) == 4
    assert report["heatmap"][5][11] == 1  # a: Saturday 11:00 in Paris
    assert report["previous"]["from"] == "2026-03-25"
    assert report["previous"]["totals"]["sessions_created"] == 0

    utc = scene.report("2026-03-28", "2026-03-30", "UTC")
    assert [d["sessions_created"] for d in utc["days"]] == [2, 2, 0]
    kolkata = scene.report("2026-03-28", "2026-03-30", "Asia/Kolkata")  # UTC+5:30
    assert [d["sessions_created"] for d in kolkata["days"]] == [1, 1, 2]
    assert kolkata["heatmap"][5][16] == 1  # a: its hour is 15:30-16:30 in Kolkata, middle 16:00

    # The next three days, compared with these.
    later = scene.report("2026-03-31", "2026-04-02", "Europe/Paris")
    assert later["previous"]["totals"] == totals


def test_days_are_ranked_off_the_changes_path_and_reports_rank_those_not_ranked_yet(
    harness: Harness, site: Site
) -> None:
    scene = Scene(harness, site)
    scene.play()
    query = "SELECT median, hist FROM report_day_histograms"
    assert any(median is None for median, _ in harness.rows(query))  # changed: not ranked yet
    unranked = scene.report("2026-03-28", "2026-03-30", "UTC")
    assert unranked["days"][1]["first_response_median"] is not None
    assert harness.run(do_rank_days(harness.rt)) > 0
    scene.buckets()  # each ranked day's median and 90th percentile are its buckets'
    for median, hist in harness.rows(query):  # only a day whose entries all went back to 0 is not
        found = json.loads(hist) if isinstance(hist, str) else hist
        assert (median is None) is (not any(n > 0 for n in found.values()))
    assert scene.report("2026-03-28", "2026-03-30", "UTC") == unranked


def test_ranking_skips_a_day_a_change_holds_on_postgresql(harness: Harness, site: Site) -> None:
    """The ranking never waits on a change (nor a change on it, in a deadlock): on PostgreSQL the
    rows a transaction holds are left to the next pass; on SQLite writes are serialised."""
    if is_sqlite(harness.settings.database_url):
        pytest.skip("SQLite runs one write transaction at a time")
    day = datetime(2026, 3, 2, 10, tzinfo=UTC)
    held, other = (
        HourRow(at, Dimension.WEBSITE, "", {}, {"first_response": {30: 1}})
        for at in (day, day + timedelta(days=1))
    )

    async def scene() -> tuple[int, int]:
        async with harness.rt.store.transaction() as tx:
            await tx.reports.add(site.website_id, other)
        async with harness.rt.store.transaction() as tx:
            await tx.reports.add(site.website_id, held)
            # The held day's row is locked until this commit: ranking the others returns.
            ranked_meanwhile = await asyncio.wait_for(do_rank_days(harness.rt), timeout=60)
        return ranked_meanwhile, await do_rank_days(harness.rt)

    assert harness.run(scene()) == (1, 1)  # the other day, then the held one
    rows = harness.rows("SELECT median, p90 FROM report_day_histograms")
    assert rows == [(30, 30), (30, 30)]


def test_a_pass_with_nothing_to_rank_only_reads(harness: Harness, site: Site) -> None:
    """Most passes (every node, every few seconds) find nothing to rank: they read and open no
    write transaction, so they go on while another writer holds the database (SQLite: another
    connection's write transaction; PostgreSQL: a lock on the table that only reads get past). A
    day whose entries all went back to 0 is nothing to rank."""
    day = datetime(2026, 3, 2, 10, tzinfo=UTC)
    ranked, zeroed = (
        HourRow(at, Dimension.WEBSITE, "", {}, {"first_response": {30: 1}})
        for at in (day, day + timedelta(days=1))
    )
    undone = HourRow(zeroed.hour, Dimension.WEBSITE, "", {}, {"first_response": {30: -1}})

    async def scene() -> tuple[bool, int, bool, int]:
        for row in (ranked, zeroed, undone):
            async with harness.rt.store.transaction() as tx:
                await tx.reports.add(site.website_id, row)
        async with harness.rt.store.read() as reader:
            before = await reader.reports.has_days_to_rank()
        first = await do_rank_days(harness.rt)
        async with harness.rt.store.read() as reader:
            after = await reader.reports.has_days_to_rank()
        async with another_writer(harness):
            return before, first, after, await asyncio.wait_for(do_rank_days(harness.rt), 30)

    assert harness.run(scene()) == (True, 1, False, 0)
    rows = harness.rows("SELECT median FROM report_day_histograms ORDER BY day")
    assert rows == [(30,), (None,)]


@contextlib.asynccontextmanager
async def another_writer(harness: Harness) -> AsyncIterator[None]:
    """Another writer holding the reports' day histograms, from its own connection."""
    url = harness.settings.database_url
    if is_sqlite(url):
        conn = sqlite3.connect(sqlite_path(url), isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    locked = asyncio.Event()
    done = asyncio.Event()

    async def hold() -> None:
        async with harness.rt.store.transaction() as tx:
            lock = "LOCK TABLE report_day_histograms IN EXCLUSIVE MODE"
            await tx.db.execute(text(lock))  # type: ignore[attr-defined]
            locked.set()
            await done.wait()

    holder = asyncio.create_task(hold())
    await locked.wait()
    try:
        yield
    finally:
        done.set()
        await holder


def test_one_node_ranks_at_a_time_on_postgresql(harness: Harness, site: Site) -> None:
    """With several nodes, one ranks at a time: a node finding another one ranking (its
    transaction still open) returns at once, leaving even the days the other does not hold to
    the next pass."""
    if is_sqlite(harness.settings.database_url):
        pytest.skip("SQLite serves one node")
    day = datetime(2026, 3, 2, 10, tzinfo=UTC)
    first, second = (
        HourRow(at, Dimension.WEBSITE, "", {}, {"first_response": {30: 1}})
        for at in (day, day + timedelta(days=1))
    )

    async def scene() -> tuple[int, int, int]:
        async with harness.rt.store.transaction() as tx:
            await tx.reports.add(site.website_id, first)
        async with harness.rt.store.transaction() as ranking:  # one node ranking
            ranked = await ranking.reports.rank_days()
            async with harness.rt.store.transaction() as tx:  # a change meanwhile
                await tx.reports.add(site.website_id, second)
            meanwhile = await asyncio.wait_for(do_rank_days(harness.rt), timeout=60)  # another
        return ranked, meanwhile, await do_rank_days(harness.rt)

    assert harness.run(scene()) == (1, 0, 1)
    assert harness.rows("SELECT median FROM report_day_histograms") == [(30,), (30,)]


def test_rebuild_equals_the_rollups_kept_as_things_happened(harness: Harness, site: Site) -> None:
    scene = Scene(harness, site)
    ids = scene.play()
    for rating in (2, 4):  # rated, then rated again: counts once, at 4
        harness.run(
            do_rate_conversation(
                harness.rt,
                token=scene.tokens[ids["d"]],
                origin=ORIGIN,
                conversation_id=ids["d"],
                rating=rating,
            )
        )
    kept, kept_buckets = scene.rollups(), scene.buckets()
    started = started_rows(harness)
    facts = harness.rows("SELECT * FROM report_conversations ORDER BY conversation_id")
    assert harness.run(do_rebuild(harness.rt, website_id=site.website_id)) == 1
    assert (scene.rollups(), scene.buckets()) == (kept, kept_buckets)
    assert started_rows(harness) == started
    assert harness.rows("SELECT * FROM report_conversations ORDER BY conversation_id") == facts
    totals = scene.report("2026-03-28", "2026-03-30", "Europe/Paris")["totals"]
    assert (totals["ratings_count"], totals["ratings_average"]) == (1, 4.0)
    for table in (
        "report_hours",
        "report_days",
        "report_hour_buckets",
        "report_day_buckets",
        "report_month_buckets",
        "report_day_histograms",
    ):
        harness.execute(f"DELETE FROM {table}")  # lost rollups come back from the sources
    harness.run(do_rebuild(harness.rt))
    without_loads = [(*row[:4], 0, *row[5:]) for row in kept]
    assert [(*row[:4], 0, *row[5:]) for row in scene.rollups()] == [
        row for row in without_loads if any(row[4:])
    ]
    assert scene.buckets() == kept_buckets
    assert started_rows(harness) == started
    # A rating goes with its conversation (P20): a rebuild no longer counts it.
    harness.execute("DELETE FROM ratings")
    harness.run(do_rebuild(harness.rt, website_id=site.website_id))
    assert scene.report("2026-03-28", "2026-03-30", "UTC")["totals"]["ratings_count"] == 0


def test_p3_rollups_hold_no_visitor_and_erasure_keeps_the_totals(
    harness: Harness, site: Site
) -> None:
    scene = Scene(harness, site)
    ids = scene.play()
    before = scene.report("2026-03-28", "2026-03-30", "Europe/Paris")
    visitors = harness.rows("SELECT id, email, nickname, ip, token_hash FROM sessions")
    needles = {str(v) for row in visitors for v in row if v} | set(ids.values())
    rows = scene.rollups() + scene.buckets()
    dump = json.dumps([list(map(str, row)) for row in rows])
    assert needles and not [needle for needle in needles if needle in dump]
    erased = harness.run(do_erase_subject(harness.rt, Actor.cli(), email="ada@mail.example"))
    assert erased["sessions"] == 1
    after = scene.report("2026-03-28", "2026-03-30", "Europe/Paris")
    assert after == before
    assert harness.scalar("SELECT count(*) FROM report_conversations") == 3


# `localtime` (the server's own zone), `posix/...` and `right/...` were opened by ZoneInfo.
NOT_IANA_ZONES = ("localtime", "posixrules", "posix/Europe/Paris", "right/UTC", "UTC+3", "EST+5")


def test_reports_over_http_for_members_with_csv_and_clear_422s(
    server: ServerThread, http: httpx.Client, harness: Harness, site: Site
) -> None:
    Scene(harness, site).play()
    url = f"/api/v1/websites/{site.website_id}/reports"
    query = {"from": "2026-03-28", "to": "2026-03-30", "tz": "Europe/Paris"}

    def get(role: str, accept: str = "application/json", **params: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {site.tokens[role]}", "Accept": accept}
        return http.get(url, params=params, headers=headers)

    found = get("agent", **query)
    assert found.status_code == 200, found.text
    assert found.json()["totals"]["sessions_created"] == 4
    assert get("other_owner", **query).status_code == 404
    assert http.get(url, params=query).status_code == 401
    for params, code in (
        ({**query, "from": "28/03/2026"}, "invalid_date"),
        ({**query, "to": "2026-02-30"}, "invalid_date"),
        ({**query, "tz": "Mars/Olympus"}, "invalid_time_zone"),
        ({**query, "tz": "../../etc/passwd"}, "invalid_time_zone"),
        ({**query, "tz": ""}, "invalid_time_zone"),  # it was taken as UTC
        # Files of the zone folder that are no IANA name, and POSIX TZ strings: all refused.
        *(({**query, "tz": z}, "invalid_time_zone") for z in NOT_IANA_ZONES),
        ({**query, "from": ""}, "invalid_date"),  # it was taken as the 30 days up to `to`
        ({**query, "to": ""}, "invalid_date"),  # it was taken as today
        ({**query, "from": "2026-04-01"}, "invalid_period"),
        ({**query, "from": "2020-01-01"}, "invalid_period"),
    ):
        refused = get("agent", **params)
        assert refused.status_code == 422, params
        assert refused.json()["error"]["code"] == code
    empty_zone = get("agent", **{**query, "tz": ""}).json()["error"]["message"]
    assert empty_zone.startswith("tz is empty: ")
    csv = get("agent", accept="text/csv", **query)
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.splitlines()
    assert lines[0].startswith("date,chatbox_loads,sessions_created,")
    assert lines[1].startswith("2026-03-28,1,1,1,1,1,1,30,30,600,600,0,")
    assert len(lines) == 4
    by_label = get("agent", **query, by="label")
    assert by_label.status_code == 200 and by_label.json()["labels"] == []
    assert "teams" not in by_label.json()
    refused = get("agent", **query, by="visitor")
    assert (refused.status_code, refused.json()["error"]["code"]) == (422, "invalid_breakdown")
    teams_csv = get("agent", accept="text/csv", **query, by="team").text.splitlines()
    assert teams_csv == ["team_id," + lines[0].removeprefix("date,")]
    # Without a period: the 30 days up to today in UTC.
    assert len(get("agent").json()["days"]) == 30


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 3, 1, tzinfo=UTC))
