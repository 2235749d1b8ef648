"""The purge (P6, P15, P17, P18): runs every retention rule in bounded batches.

Each batch is found by a read off the event loop (`Store.long_read`), then removed in its own
short transaction (run again when PostgreSQL ended it in a race: `run_again_when_raced`), and
the loop yields between batches, so that requests served meanwhile wait for one batch at most,
never for the whole purge. Each batch is told to a `Progress`, which may stop the purge between
two batches (`causerie purge` on Ctrl-C): what was removed is recorded as a run, and the search
index is rebuilt for it, as after a whole one.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from functools import partial

from causerie.actions.events import do_signal_deleted, do_signal_session_gone
from causerie.actions.file_deletion import do_queue_deletion, do_release_orphan_files
from causerie.actions.jobs import do_enqueue_search_reindex
from causerie.actions.races import run_again_when_raced
from causerie.actions.webhook_queue import do_queue_erasure
from causerie.domain.models import Conversation
from causerie.domain.personal_data import retention_rules
from causerie.domain.ports import Tx
from causerie.domain.progress import QUIET, Progress, Stopped, stop_if_requested
from causerie.domain.retention import Rule, cutoffs, website_cutoffs
from causerie.runtime import Runtime

log = logging.getLogger("causerie.purge")

# Small enough that a batch holds the (SQLite) connection for a few milliseconds only:
# requests served meanwhile wait for one batch at most (docs/performance.md).
BATCH_SIZE = 250
TURNS_BETWEEN_BATCHES = 4
# The rules that destroy sessions: the sockets of those they destroy are ended.
SESSION_RULES = frozenset({Rule.TEMPORARY_SESSIONS, Rule.RESOLVED_CONVERSATIONS})


async def do_purge(
    rt: Runtime,
    *,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    progress: Progress = QUIET,
) -> dict[str, int]:
    """Apply every rule now; return the number of rows each removed (or would remove).
    `Stopped` (with those numbers) when `progress` asked to stop between two batches."""
    now = rt.clock.now()
    settings = rt.settings
    limits = cutoffs(
        now,
        temporary_session_ttl=settings.temporary_session_ttl,
        chat_ip_retention=settings.chat_ip_retention,
        conversation_retention=settings.conversation_retention,
        audit_retention=settings.audit_retention,
    )
    rules = retention_rules()
    counts = {rule.value: 0 for rule in rules}
    purge = _Purge(rt, counts, dry_run, batch_size, progress)
    stopped = False
    try:
        for rule in rules:
            progress.begin(rule.value, None)
            cutoff = limits.for_rule(rule)
            if cutoff is not None:
                # Rules copied from a visitor's address go with it (P18): `_expired_blocks`.
                copies = limits.chat_ips if rule is Rule.EXPIRED_BLOCKS else None
                await purge.apply(rule, cutoff, None, copied_before=copies)
        # Websites that chose a shorter retention for themselves (P6).
        async with rt.store.read() as tx:
            websites = await tx.websites.list_all()
        for website in websites:
            overrides = website.settings.get("retention") or {}
            for rule, cutoff in website_cutoffs(now, overrides, limits).items():
                # Only what the server's own cut-off left: a dry run must not count a row twice.
                await purge.apply(rule, cutoff, website.id, newer_than=limits.for_rule(rule))
                if rule is Rule.CHAT_IPS:  # and the rules copied from those addresses
                    await purge.apply(
                        Rule.EXPIRED_BLOCKS,
                        limits.expired_blocks,
                        website.id,
                        newer_than=limits.chat_ips,
                        copied_before=cutoff,
                    )
    except Stopped:
        stopped = True

    if not stopped:
        for plugin_rule in rt.plugins.retention_rules():  # docs/plugins.md
            counts[f"plugin:{plugin_rule.name}"] = await plugin_rule.purge(rt, now, dry_run)

    async with rt.store.transaction() as tx:
        await tx.retention.record_run(now, dry_run, counts)
        if not dry_run and any(counts.values()):
            await do_enqueue_search_reindex(rt, tx)
        if not dry_run:
            # Files of the sessions removed above (and of any deletion that left some).
            await do_release_orphan_files(rt, tx)
    if not dry_run and any(counts.values()):
        await rt.store.after_purge()
    if any(counts.values()):
        log.info(
            "purge%s%s: %s",
            " (dry run)" if dry_run else "",
            " (stopped)" if stopped else "",
            _describe(counts),
        )
    if stopped:
        raise Stopped(counts)
    return counts


class _Purge:
    """One run's batches, counted into `counts` as each is committed."""

    def __init__(
        self,
        rt: Runtime,
        counts: dict[str, int],
        dry_run: bool,
        batch_size: int,
        progress: Progress,
    ) -> None:
        self.rt = rt
        self.counts = counts
        self.dry_run = dry_run
        self.batch_size = batch_size
        self.progress = progress

    async def apply(
        self,
        rule: Rule,
        cutoff: datetime,
        website_id: str | None,
        *,
        newer_than: datetime | None = None,
        copied_before: datetime | None = None,
    ) -> None:
        """Remove (or count) what `rule` expires before `cutoff` (and after `newer_than`), in
        batches; one website's or all. `copied_before`: `Retention.count_expired`."""
        rt, name = self.rt, rule.value
        stop_if_requested(self.progress, self.counts)
        if rule is Rule.FILES:
            await self._expire_files(cutoff, website_id, newer_than)
            return
        if self.dry_run:
            async with rt.store.long_read() as tx:
                found = await tx.retention.count_expired(
                    rule, cutoff, website_id, newer_than, copied_before=copied_before
                )
            self._done(name, found)
            return
        while True:
            # Finding a batch may scan (a rule without an index, nothing left to find): off the
            # loop. Removing it is short: by primary key, the rule checked again on those rows.
            async with rt.store.long_read() as tx:
                ids = await tx.retention.list_expired(
                    rule,
                    cutoff,
                    self.batch_size,
                    website_id,
                    newer_than,
                    copied_before=copied_before,
                )
            if ids:
                removed = await run_again_when_raced(
                    partial(self._remove, rule, cutoff, ids, website_id, newer_than, copied_before)
                )
                self._done(name, removed)
            if len(ids) < self.batch_size:
                return
            stop_if_requested(self.progress, self.counts)
            await _let_requests_through()

    async def _expire_files(
        self, cutoff: datetime, website_id: str | None, newer_than: datetime | None
    ) -> None:
        """Files stored before `cutoff` lose their bytes; their messages stay, showing the file
        as expired. Each batch marks its rows and queues the deletion of their bytes together."""
        rt, name = self.rt, Rule.FILES.value
        if self.dry_run:
            async with rt.store.long_read() as tx:
                found = await tx.files.count_expiring(cutoff, website_id, newer_than)
            self._done(name, found)
            return
        while True:
            count = await run_again_when_raced(
                partial(self._expire_files_batch, cutoff, website_id, newer_than)
            )
            self._done(name, count)
            if count < self.batch_size:
                return
            stop_if_requested(self.progress, self.counts)
            await _let_requests_through()

    async def _remove(
        self,
        rule: Rule,
        cutoff: datetime,
        ids: list[str],
        website_id: str | None,
        newer_than: datetime | None,
        copied_before: datetime | None,
    ) -> int:
        """One batch of `rule` removed, in one short transaction: the rows removed."""
        # Not durable: a deletion that a power cut undoes is redone by the next run.
        async with self.rt.store.transaction(durable=False) as tx:
            doomed = await _conversations_of(tx, rule, ids)
            removed = await tx.retention.purge_expired(
                rule, cutoff, ids, website_id, newer_than, copied_before=copied_before
            )
            await _tell_recipients(self.rt, tx, doomed)
            if rule in SESSION_RULES:
                await _end_sockets(self.rt, tx, ids, removed)
        return removed

    async def _expire_files_batch(
        self, cutoff: datetime, website_id: str | None, newer_than: datetime | None
    ) -> int:
        async with self.rt.store.transaction() as tx:
            count, keys = await tx.files.expire(
                cutoff, self.rt.clock.now(), self.batch_size, website_id, newer_than
            )
            await do_queue_deletion(self.rt, tx, keys, delay=timedelta(0))
        return count

    def _done(self, name: str, count: int) -> None:
        self.counts[name] += count
        self.progress.advance(name, count)


async def _conversations_of(tx: Tx, rule: Rule, session_ids: list[str]) -> list[Conversation]:
    """The conversations a batch of `rule` may delete (only resolved conversations' rule
    deletes sessions that have one)."""
    if rule is not Rule.RESOLVED_CONVERSATIONS:
        return []
    found = [await tx.conversations.get_by_session(session_id) for session_id in session_ids]
    return [c for c in found if c is not None]


async def _tell_recipients(rt: Runtime, tx: Tx, candidates: list[Conversation]) -> None:
    """`conversation.deleted` to the webhooks and plugins, and to the website's agents' sockets
    (as a deletion by an agent), for each conversation the batch did delete (the rule is
    checked again on each row: one may have been reopened meanwhile)."""
    for conversation in candidates:
        if await tx.conversations.get(conversation.id) is None:
            await do_queue_erasure(
                rt,
                tx,
                conversation.website_id,
                conversation.session_id,
                conversation.id,
                erased=False,
            )
            do_signal_deleted(rt, tx, conversation.website_id, conversation.id)


async def _end_sockets(rt: Runtime, tx: Tx, session_ids: list[str], removed: int) -> None:
    """The visitor sockets of the sessions the batch destroyed end once it commits (told
    `invalid_session`, closed with 4004), as after a deletion: they used to stay open on a
    session that no longer existed until their next message. Those the rule spared (visited
    again meanwhile) are read back only when the batch did not remove every listed one."""
    if removed == len(session_ids):
        gone = session_ids
    elif removed == 0:
        gone = []
    else:
        kept = await tx.sessions.get_many(session_ids)
        gone = [session_id for session_id in session_ids if session_id not in kept]
    for session_id in gone:
        do_signal_session_gone(rt, tx, session_id)


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
