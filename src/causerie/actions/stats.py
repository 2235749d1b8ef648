"""Statistics of a website (P3): counts per day, computed from the live tables.

Only aggregates leave the database; nothing in them names a person. A conversation deleted or
erased leaves the counts of the days after, since they are computed, never stored.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from causerie.actions.access import ANY_ROLE, check_role
from causerie.domain.errors import NotFound, shown
from causerie.domain.models import Actor, Scope
from causerie.runtime import Runtime


async def get_daily_stats(rt: Runtime, actor: Actor, website_id: str, days: int) -> dict[str, Any]:
    now = rt.clock.now()
    start = (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    async with rt.store.long_read() as tx:  # counts every message of the period
        missing = NotFound(f"no website {shown(website_id)}", "website_not_found")
        await check_role(tx, actor, website_id, ANY_ROLE, Scope.READ, missing=missing)
        counts = await tx.stats.daily_counts(website_id, start)
    table: dict[str, dict[str, int]] = {}
    for offset in range(days):
        day = (start + timedelta(days=offset)).date().isoformat()
        table[day] = {"conversations": 0, "visitor_messages": 0, "operator_messages": 0}
    names = {
        "conversations": "conversations",
        "visitor": "visitor_messages",
        "operator": "operator_messages",
    }
    for day, what, count in counts:
        if day in table and what in names:
            table[day][names[what]] += count
    totals = {
        key: sum(values[key] for values in table.values())
        for key in ("conversations", "visitor_messages", "operator_messages")
    }
    return {"days": [{"day": day, **values} for day, values in table.items()], "totals": totals}
