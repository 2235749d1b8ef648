"""The kinds of background work the server runs (actions/jobs.py runs them): one entry per
`JobKind`, each harmless when repeated (a job runs at least once)."""

from __future__ import annotations

import logging

from causerie.actions.jobs import Work
from causerie.actions.retention import do_purge
from causerie.actions.webhooks import run_delivery
from causerie.domain.jobs import Job, JobKind
from causerie.runtime import Runtime

log = logging.getLogger("causerie.jobs")


async def _purge(rt: Runtime, job: Job) -> None:
    await do_purge(rt)


async def _search_reindex(rt: Runtime, job: Job) -> None:
    rebuilt = await rt.store.rebuild_search_indexes()
    if rebuilt:
        log.info("search indexes rebuilt after deletions: %s", ", ".join(rebuilt))


KINDS: dict[str, Work] = {
    JobKind.PURGE: Work(_purge, every=lambda settings: settings.purge_interval),
    JobKind.SEARCH_REINDEX: Work(_search_reindex),
    JobKind.WEBHOOK_DELIVER: Work(run_delivery),
}
