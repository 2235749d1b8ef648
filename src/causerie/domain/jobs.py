"""Background work (docs/architecture.md, "Background work"): what a job is, its states, and the
rules of its retries. A job is written in the transaction of the change that causes it, and runs
at least once on whichever node claims it first."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any


class JobState(StrEnum):
    QUEUED = "queued"  # waiting for `run_at`
    RUNNING = "running"  # claimed by a node until `lease_until` (then claimable again)
    FAILED = "failed"  # gave up after MAX_ATTEMPTS; `causerie jobs retry` queues it again


class JobKind(StrEnum):
    PURGE = "purge"  # the retention rules (P6, P15); periodic, every CAUSERIE_PURGE_INTERVAL
    SEARCH_REINDEX = "search.reindex"  # PostgreSQL's trigram indexes, after deletions (P9)
    AGENTS_NOTIFY = "agents.notify"  # who to tell of a visitor's message (actions/notifications)
    PUSH_SEND = "push.send"  # one Web Push to one browser of an operator (actions/push.py)
    # Mail (docs/notifications.md); each about a session, so erasure drops it (P9).
    MAIL_NEW_CONVERSATION = "mail.new_conversation"  # unanswered after the delay: to operators
    MAIL_OPERATOR = "mail.operator"  # one mail to one operator (new conversation, mention)
    MAIL_VISITOR_REPLIES = "mail.visitor_replies"  # agents' replies the visitor has not seen
    MAIL_TRANSCRIPT = "mail.transcript"  # the conversation, asked for from the chatbox
    MAIL_DIGEST = "mail.digest"  # an operator's daily digest (counts only); schedules the next
    FILES_DELETE = "files.delete"  # the bytes of deleted or expired files (P9, P20)
    FILES_SWEEP = "files.sweep"  # stored bytes no row holds (a crash mid-upload); periodic
    WEBHOOK_DELIVER = "webhook.deliver"  # one attempt of a webhook delivery (domain/webhooks.py)
    ASSIGNMENT = "assignment"  # give a website's waiting conversations to free online agents
    ASSIGNMENT_AWAY = "assignment.away"  # an agent stayed away: hand their conversations on
    AUTO_RESOLVE = "auto_resolve"  # resolve conversations idle past their website's setting
    # Keep the reports' local days that ended on the hour (actions/reports.py); periodic, on the
    # hour, run by one node of all.
    REPORT_DAYS = "reports.days"


# A job that succeeded is deleted; one that raised is retried after `backoff(attempts)`, and
# after MAX_ATTEMPTS attempts it stays `failed` for an operator to see.
MAX_ATTEMPTS = 8
BACKOFF_FIRST = timedelta(seconds=10)
BACKOFF_LONGEST = timedelta(hours=1)
# Deletions settle for this long before the search indexes are rebuilt: a burst costs one rebuild.
SEARCH_REINDEX_DELAY = timedelta(minutes=10)
LAST_ERROR_LENGTH = 500  # characters of the error kept with the job


@dataclass(frozen=True)
class Job:
    id: str
    kind: str
    run_at: datetime
    created_at: datetime
    state: JobState = JobState.QUEUED
    attempts: int = 0  # attempts started (a claim counts one)
    key: str | None = None  # idempotency: one pending job per key
    session_id: str | None = None  # the person it is about: erased with them (P9)
    payload: dict[str, Any] = field(default_factory=dict)  # ids, never contents
    lease_until: datetime | None = None
    last_error: str | None = None


def backoff(attempts: int) -> timedelta:
    """How long after its `attempts`-th failed attempt a job runs again: 10 s, doubling, at most
    an hour."""
    doublings = min(max(attempts - 1, 0), 20)
    return min(BACKOFF_FIRST * (1 << doublings), BACKOFF_LONGEST)


def gives_up(attempts: int) -> bool:
    return attempts >= MAX_ATTEMPTS


def describe_error(exc: BaseException) -> str:
    """What is kept of a failure: its type and message, cut short."""
    text = f"{type(exc).__name__}: {exc}"
    return text[:LAST_ERROR_LENGTH]
