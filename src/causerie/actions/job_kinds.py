"""The kinds of background work the server runs (actions/jobs.py runs them): one entry per
`JobKind`, each harmless when repeated (a job runs at least once)."""

from __future__ import annotations

import logging
from datetime import timedelta

from causerie.actions import auto_resolve
from causerie.actions.assignment import run_assignment, run_assignment_away
from causerie.actions.file_deletion import SWEEP_EVERY, run_files_delete, run_files_sweep
from causerie.actions.jobs import Work
from causerie.actions.mail import (
    run_digest,
    run_new_conversation,
    run_operator_mail,
    run_transcript,
    run_visitor_replies,
)
from causerie.actions.notifications import do_notify_agents_now
from causerie.actions.push import do_send_push
from causerie.actions.reports import run_keep_ended_days
from causerie.actions.retention import do_purge
from causerie.actions.webhooks import run_delivery
from causerie.domain.jobs import Job, JobKind
from causerie.runtime import Runtime

log = logging.getLogger("causerie.jobs")
HOUR = timedelta(hours=1)
REPORT_DAYS_AFTER_START = timedelta(minutes=1)  # the start's own work first


async def _purge(rt: Runtime, job: Job) -> None:
    await do_purge(rt)


async def _search_reindex(rt: Runtime, job: Job) -> None:
    rebuilt = await rt.store.rebuild_search_indexes()
    if rebuilt:
        log.info("search indexes rebuilt after deletions: %s", ", ".join(rebuilt))


KINDS: dict[str, Work] = {
    JobKind.PURGE: Work(_purge, every=lambda settings: settings.purge_interval),
    JobKind.SEARCH_REINDEX: Work(_search_reindex),
    JobKind.AGENTS_NOTIFY: Work(do_notify_agents_now),
    JobKind.PUSH_SEND: Work(do_send_push),
    JobKind.MAIL_NEW_CONVERSATION: Work(run_new_conversation),
    JobKind.MAIL_OPERATOR: Work(run_operator_mail),
    JobKind.MAIL_VISITOR_REPLIES: Work(run_visitor_replies),
    JobKind.MAIL_TRANSCRIPT: Work(run_transcript),
    JobKind.MAIL_DIGEST: Work(run_digest),
    JobKind.FILES_DELETE: Work(run_files_delete),
    JobKind.FILES_SWEEP: Work(
        run_files_sweep, every=lambda settings: max(settings.purge_interval, SWEEP_EVERY)
    ),
    JobKind.WEBHOOK_DELIVER: Work(run_delivery),
    JobKind.ASSIGNMENT: Work(run_assignment),
    JobKind.ASSIGNMENT_AWAY: Work(run_assignment_away),
    JobKind.AUTO_RESOLVE: Work(auto_resolve.run_auto_resolve, every=lambda _: auto_resolve.EVERY),
    # The local days that ended while the server was down are kept a minute after it starts,
    # not on the next hour (docs/reports.md).
    JobKind.REPORT_DAYS: Work(
        run_keep_ended_days, every=lambda _: HOUR, aligned=True, after_start=REPORT_DAYS_AFTER_START
    ),
}
