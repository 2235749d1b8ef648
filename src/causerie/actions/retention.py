"""The purge (P6, P15, P17, P18): runs every retention rule in bounded batches.

Each batch is found by a read off the event loop (`Store.long_read`), then removed in its own
short transaction, and the loop yields between batches, so that requests served meanwhile wait
for one batch at most, never for the whole purge.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from causerie.actions.jobs import do_enqueue_search_reindex
from causerie.domain.personal_data import retention_rules
from causerie.domain.retention import Rule, cutoffs, website_cutoffs
from causerie.runtime import Runtime

log = logging.getLogger("causerie.purge")

# Small enough that a batch holds the (SQLite) connection for a few milliseconds only:
# requests served meanwhile wait for one batch at most (docs/performance.md).
BATCH_SIZE = 250
TURNS_BETWEEN_BATCHES = 4


async def do_purge(
    rt: Runtime, *, dry_run: bool = False, batch_size: int = BATCH_SIZE
) -> dict[str, int]:
    """Apply every rule now; return the number of rows each removed (or would remove)."""
    now = rt.clock.now()
    settings = rt.settings
    limits = cutoffs(
        now,
        temporary_session_ttl=settings.temporary_session_ttl,
        chat_ip_retention=settings.chat_ip_retention,
        conversation_retention=settings.conversation_retention,
        audit_retention=settings.audit_retention,
    )
    counts: dict[str, int] = {}
    for rule in retention_rules():
        cutoff = limits.for_rule(rule)
        counts[rule.value] = (
            0 if cutoff is None else await _apply(rt, rule, cutoff, None, dry_run, batch_size)
        )
    # Websites that chose a shorter retention for themselves (P6).
    async with rt.store.read() as tx:
        websites = await tx.websites.list_all()
    for website in websites:
        overrides = website.settings.get("retention") or {}
        for rule, cutoff in website_cutoffs(now, overrides, limits).items():
            # Only what the server's own cut-off left: a dry run must not count a row twice.
            counts[rule.value] += await _apply(
                rt, rule, cutoff, website.id, dry_run, batch_size, newer_than=limits.for_rule(rule)
            )

    async with rt.store.transaction() as tx:
        await tx.retention.record_run(now, dry_run, counts)
        if not dry_run and any(counts.values()):
            await do_enqueue_search_reindex(rt, tx)
    if not dry_run and any(counts.values()):
        await rt.store.after_purge()
    if any(counts.values()):
        log.info("purge%s: %s", " (dry run)" if dry_run else "", _describe(counts))
    return counts


async def _apply(
    rt: Runtime,
    rule: Rule,
    cutoff: datetime,
    website_id: str | None,
    dry_run: bool,
    batch_size: int,
    *,
    newer_than: datetime | None = None,
) -> int:
    """Remove (or count) what `rule` expires before `cutoff` (and after `newer_than`), in
    batches; one website's or all."""
    if dry_run:
        async with rt.store.long_read() as tx:
            return await tx.retention.count_expired(rule, cutoff, website_id, newer_than)
    removed = 0
    while True:
        # Finding a batch may scan (a rule without an index, nothing left to find): off the
        # loop. Removing it is short: by primary key, the rule checked again on those rows.
        async with rt.store.long_read() as tx:
            ids = await tx.retention.list_expired(rule, cutoff, batch_size, website_id, newer_than)
        if ids:
            # Not durable: a deletion that a power cut undoes is redone by the next run.
            async with rt.store.transaction(durable=False) as tx:
                removed += await tx.retention.purge_expired(
                    rule, cutoff, ids, website_id, newer_than
                )
        if len(ids) < batch_size:
            return removed
        await _let_requests_through()


async def _let_requests_through() -> None:
    """Give the event loop a few turns between batches. A request needs several turns (read,
    parse, its own short transaction, write); one turn left most of them waiting behind the next
    batch. Each turn costs nothing when the server is idle, and lasts as long as the ready work
    when it is busy, so the purge slows down only as much as traffic needs (docs/performance.md).
    """
    for _ in range(TURNS_BETWEEN_BATCHES):
        await asyncio.sleep(0)


def _describe(counts: dict[str, int]) -> str:
    return ", ".join(f"{name}={count}" for name, count in counts.items())
