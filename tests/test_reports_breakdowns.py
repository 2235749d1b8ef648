"""Reports per label and per team (docs/reports.md "Labels and teams"): a conversation's figures
count under the labels and the team it carries now, moved when they change, exactly as a rebuild
counts them; a deleted label's or team's figures go with it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from causerie.actions.labels import do_create_label, do_delete_label, do_set_labels
from causerie.actions.reports import do_flush_counts, do_rebuild
from causerie.actions.teams import do_create_team, do_delete_team, do_transfer
from causerie.clock import ManualClock
from causerie.domain.errors import Invalid
from causerie.domain.reports import FIGURES, bucket
from tests.conftest import Harness, Site
from tests.test_reports import Scene, bucket_rows, rollup_rows

S = timedelta(seconds=1)


def _by(report: dict[str, Any], name: str, key: str) -> dict[str, dict[str, Any]]:
    return {row[key]: row for row in report[name]}


def _rollups(harness: Harness) -> tuple[list[Any], list[Any]]:
    counts = [row for row in rollup_rows(harness) if any(row[5:])]  # loads aside, all-zero rows
    return counts, bucket_rows(harness)


def test_labels_and_teams_count_their_conversations_as_a_rebuild_does(
    harness: Harness, site: Site
) -> None:
    rt, scene = harness.rt, Scene(harness, site)
    owner, w = scene.owner, site.website_id
    sales = harness.run(do_create_team(rt, owner, w, name="Sales", mode="manual"))
    billing = harness.run(do_create_label(rt, owner, w, name="billing", color="#aa0000"))
    vip = harness.run(do_create_label(rt, owner, w, name="vip", color="#00aa00"))
    t0 = datetime(2026, 3, 28, 10, tzinfo=UTC)
    _, a = scene.visitor(t0)  # joins Sales, the website's first team, as it starts
    scene.answer(scene.agent, a, t0 + 30 * S)
    scene.resolve(scene.agent, a, t0 + 600 * S)
    harness.run(do_set_labels(rt, scene.agent, a, [billing.id]))  # labelled afterwards
    b_token, b = scene.visitor(t0 + 3600 * S)
    scene.answer(scene.admin, b, t0 + 3700 * S)
    support = harness.run(do_create_team(rt, owner, w, name="Support", mode="manual"))
    harness.run(do_transfer(rt, scene.admin, b, team_id=support.id))  # leaves Sales
    scene.write(b_token, t0 + 3800 * S)
    harness.run(do_set_labels(rt, scene.agent, b, [vip.id, billing.id]))
    harness.run(do_set_labels(rt, scene.agent, b, [billing.id]))  # vip taken off again
    scene.resolve(scene.agent, b, t0 + 7200 * S)
    scene.at(t0 + 7300 * S)

    report = scene.report("2026-03-28", "2026-03-28", "UTC")
    with_labels = harness.run(_report(scene, by="label"))
    labels = _by(with_labels, "labels", "label_id")
    assert list(labels) == [billing.id]  # vip counts nothing any more
    got = labels[billing.id]
    assert (got["conversations_started"], got["messages_visitor"]) == (2, 3)
    assert (got["messages_operator"], got["conversations_resolved"]) == (2, 2)
    assert (got["first_response_median"], got["first_response_p90"]) == (30, 100)
    assert (got["resolution_median"], got["resolution_p90"]) == (600, bucket(3600))
    same = [n for n in FIGURES if n not in ("chatbox_loads", "sessions_created")]
    assert {n: got[n] for n in same} == {n: report["totals"][n] for n in same}  # all of them
    teams = _by(harness.run(_report(scene, by="team")), "teams", "team_id")
    assert (teams[sales.id]["conversations_started"], teams[sales.id]["messages_visitor"]) == (1, 1)
    assert teams[sales.id]["first_response_median"] == 30
    assert (teams[support.id]["conversations_started"], teams[support.id]["messages_visitor"]) == (
        1,
        2,
    )
    assert teams[support.id]["first_response_median"] == 100
    assert "labels" not in report and "teams" not in report

    # New sessions are counted in the node's memory, added by its task every few seconds.
    harness.run(do_flush_counts(rt))
    kept = _rollups(harness)
    harness.run(do_rebuild(rt, website_id=w))
    assert _rollups(harness) == kept

    harness.run(do_delete_label(rt, owner, w, billing.id))
    harness.run(do_delete_team(rt, owner, support.id, website_id=w))
    assert harness.run(_report(scene, by="label"))["labels"] == []
    assert list(_by(harness.run(_report(scene, by="team")), "teams", "team_id")) == [sales.id]
    kept = _rollups(harness)
    harness.run(do_rebuild(rt, website_id=w))
    assert _rollups(harness) == kept

    with pytest.raises(Invalid) as refused:
        harness.run(_report(scene, by="agent"))
    assert refused.value.code == "invalid_breakdown"


async def _report(scene: Scene, by: str) -> dict[str, Any]:
    from causerie.actions.reports import get_report

    return await get_report(
        scene.rt,
        scene.owner,
        scene.site.website_id,
        first="2026-03-28",
        last="2026-03-28",
        tz="UTC",
        by=by,
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 3, 1, tzinfo=UTC))
