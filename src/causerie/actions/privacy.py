"""Data-subject requests (P7, P9), consent (P9), legal export (P12), DPA (P10), audit (P4).

A person is found by email or by session id, within the websites the caller may act for: owners
and admins of a website (or the shell, for all). Export gathers everything held about them;
erasure destroys it all (sessions, messages, profile, IPs, consent) and leaves aggregates that
hold no personal data (network counts) and an audit entry with ids and counts only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from causerie.actions.access import MANAGERS, OWNERS, check_role
from causerie.actions.audit import do_audit
from causerie.actions.events import do_signal_deleted, do_signal_session_gone
from causerie.actions.file_deletion import do_release_orphan_files
from causerie.actions.inbox import conversation_missing
from causerie.actions.jobs import do_enqueue_search_reindex
from causerie.actions.races import run_again_when_raced
from causerie.actions.sessions import access_visitor_session
from causerie.actions.webhook_queue import do_queue_erasure
from causerie.domain.cursors import decode_cursor, encode_cursor
from causerie.domain.errors import Forbidden, Invalid, NotFound, Unauthenticated, shown
from causerie.domain.models import (
    Actor,
    AuditEntry,
    DpaAcceptance,
    Scope,
    Session,
)
from causerie.domain.ports import Tx
from causerie.domain.privacy import DPA_VERSION, LEGAL_FORMAT, export_document, session_export
from causerie.domain.profiles import check_email
from causerie.domain.progress import QUIET, Progress, Stopped, stop_if_requested
from causerie.domain.register import (
    Recipient,
    RegisterInput,
    duration_words,
    host_of,
    render_register,
)
from causerie.domain.shield import names_person
from causerie.domain.wire import (
    agent_session_json,
    block_rule_json,
    conversation_json,
    iso,
    message_json,
)
from causerie.runtime import Runtime
from causerie.tokens import new_id

PAGE = 500
# Sessions erased per transaction: a large person's erasure holds the database for one batch at
# a time, and Ctrl-C on `causerie privacy erase` stops it between two (docs/cli.md).
ERASE_BATCH = 20


async def _manageable_websites(tx: Tx, actor: Actor, scope: Scope) -> list[str] | None:
    """Websites whose visitors' data the actor may export or erase; None: every website.

    Only owners and admins handle data-subject requests; an operator who is neither anywhere,
    or a token without `scope`, is refused rather than shown an empty result.
    """
    if actor.kind in ("cli", "system"):
        return None
    if actor.operator_id is None:
        raise Unauthenticated("authentication required")
    if scope not in actor.scopes:
        raise Forbidden(f"this token lacks the {shown(scope.value)} scope", "insufficient_scope")
    managed = [
        website.id
        for website, role in await tx.members.list_for_operator(actor.operator_id)
        if role in MANAGERS and (actor.website_ids is None or website.id in actor.website_ids)
    ]
    if not managed:
        raise Forbidden("data-subject requests need the role owner or admin")
    return managed


async def _subject_sessions(
    tx: Tx, actor: Actor, scope: Scope, *, email: str | None, session_id: str | None
) -> list[Session]:
    if (email is None) == (session_id is None):
        raise Invalid("give an email or a session_id", "invalid_request")
    if email is not None:
        websites = await _manageable_websites(tx, actor, scope)
        address = check_email(email)
        if address is None:
            raise Invalid("email: an email address", "invalid_email")
        return await tx.sessions.find_by_email(address, websites)
    assert session_id is not None
    session = await tx.sessions.get(session_id)
    missing = NotFound(f"no session {shown(session_id)}", "session_not_found")
    if session is None:
        raise missing
    await check_role(tx, actor, session.website_id, MANAGERS, scope, missing=missing)
    return [session]


async def _all_messages(tx: Tx, conversation_id: str, include_notes: bool) -> list[Any]:
    found: list[Any] = []
    before = None
    while True:
        page = await tx.messages.list_page(
            conversation_id, limit=PAGE, before=before, include_notes=include_notes
        )
        found[:0] = page
        if len(page) < PAGE:
            return found
        before = page[0].id


async def _export_sessions(
    rt: Runtime, tx: Tx, sessions: list[Session], *, include_notes: bool
) -> list[dict[str, Any]]:
    out = []
    for session in sessions:
        conversation = await tx.conversations.get_by_session(session.id)
        messages = await _all_messages(tx, conversation.id, include_notes) if conversation else []
        website = await tx.websites.get(session.website_id)
        mail = {
            "unsubscribed_at": iso(await tx.mail.opted_out_at(session.id)),
            "refused": [
                {"address": f.address, "error": f.error, "failed_at": iso(f.failed_at)}
                for f in await tx.mail.failures_of_session(session.id)
            ],
        }
        ratings = await tx.ratings.list_for_conversation(conversation.id) if conversation else []
        labels = None
        blocks = None
        if include_notes:  # the managers' classification and rules, with their notes (P9)
            labels = await tx.labels.list_for_website(session.website_id)
            blocks = [
                rule
                for rule in await tx.shield.list_rules(session.website_id)
                if names_person(rule, session.ip, session.email)
            ]
        exported = session_export(
            session, website, conversation, messages, mail, ratings=ratings, labels=labels
        )
        if blocks is not None:
            exported["blocks"] = [block_rule_json(rule) for rule in blocks]
        out.append(exported)
    return out


@dataclass(frozen=True)
class Subject:
    session: Session
    conversation_id: str | None
    messages: int


async def find_subject(
    rt: Runtime, actor: Actor, *, email: str | None = None, session_id: str | None = None
) -> list[Subject]:
    """The sessions held about a person, for the caller to review before export or erasure."""
    async with rt.store.long_read() as tx:  # by email: every session's address is lowered
        sessions = await _subject_sessions(
            tx, actor, Scope.READ, email=email, session_id=session_id
        )
        found = []
        for session in sessions:
            conversation = await tx.conversations.get_by_session(session.id)
            count = await tx.messages.count(conversation.id) if conversation else 0
            found.append(Subject(session, conversation.id if conversation else None, count))
    return found


async def do_export_subject(
    rt: Runtime,
    actor: Actor,
    *,
    email: str | None = None,
    session_id: str | None = None,
    progress: Progress = QUIET,
) -> dict[str, Any]:
    """Everything held about a person, as one JSON document (agents' notes included).

    Gathered by a long read (one snapshot), session by session as told to `progress`, then
    audited in a short transaction: the document is returned only once its audit entries are
    committed. Stopped before that (`Stopped`), it wrote nothing."""
    async with rt.store.long_read() as tx:
        sessions = await _subject_sessions(
            tx, actor, Scope.READ, email=email, session_id=session_id
        )
        progress.begin("sessions", len(sessions))
        exported: list[dict[str, Any]] = []
        for session in sessions:
            stop_if_requested(progress, {"sessions": len(exported)})
            exported += await _export_sessions(rt, tx, [session], include_notes=True)
            progress.advance("sessions", 1)
    async with rt.store.transaction() as tx:
        for session in sessions:
            await do_audit(
                rt,
                tx,
                actor,
                "privacy.export",
                target_type="session",
                target_id=session.id,
                website_id=session.website_id,
            )
    query = {"email": email} if email is not None else {"session_id": session_id or ""}
    return export_document(rt.clock.now(), query, exported)


async def do_erase_subject(
    rt: Runtime,
    actor: Actor,
    *,
    email: str | None = None,
    session_id: str | None = None,
    progress: Progress = QUIET,
) -> dict[str, int]:
    """Destroy every session of a person, with their messages, profile, IPs and consent.

    Sessions go ERASE_BATCH at a time, each batch in its own transaction (with its audit
    entries), found afresh each time, so a run that stops or fails part-way is finished by the
    next, and a batch that PostgreSQL ended in a race runs again (`run_again_when_raced`).
    `Stopped` (with the counts) when `progress` asked to stop between two batches."""
    counts = {"sessions": 0, "messages": 0}
    total: int | None = None

    async def erase_batch() -> tuple[int, dict[str, int]]:
        """The next batch, found afresh: (sessions left before it, what it erased)."""
        nonlocal total
        async with rt.store.transaction() as tx:
            sessions = await _subject_sessions(
                tx, actor, Scope.WRITE, email=email, session_id=session_id
            )
            if total is None:
                total = len(sessions)
                progress.begin("sessions", total)
            return len(sessions), await _erase(
                rt, tx, actor, sessions[:ERASE_BATCH], "privacy.erase"
            )

    try:
        while True:
            left, batch = await run_again_when_raced(erase_batch)
            counts["sessions"] += batch["sessions"]
            counts["messages"] += batch["messages"]
            progress.advance("sessions", batch["sessions"])
            if left <= ERASE_BATCH:
                break
            stop_if_requested(progress, counts)
    except Stopped:
        await rt.store.after_purge()
        raise
    if counts["sessions"]:
        await rt.store.after_purge()
    return counts


async def _erase(
    rt: Runtime, tx: Tx, actor: Actor, sessions: list[Session], action: str
) -> dict[str, int]:
    messages = 0
    for session in sessions:
        conversation = await tx.conversations.get_by_session(session.id)
        count = await tx.messages.count(conversation.id) if conversation else 0
        messages += count
        await tx.sessions.delete(session.id)
        do_signal_session_gone(rt, tx, session.id)
        if conversation is not None:
            do_signal_deleted(rt, tx, session.website_id, conversation.id)
            await do_queue_erasure(
                rt, tx, session.website_id, session.id, conversation.id, erased=True
            )
        await do_audit(
            rt,
            tx,
            actor,
            action,
            target_type="session",
            target_id=session.id,
            website_id=session.website_id,
            details={"messages": count},
        )
    if sessions:
        # Jobs about these sessions went with them (the foreign key cascades, in `tx`).
        await do_enqueue_search_reindex(rt, tx)
        await do_release_orphan_files(rt, tx)
    return {"sessions": len(sessions), "messages": messages}


# the visitor, from the chatbox


async def do_export_own_session(rt: Runtime, token: str, origin: str | None) -> dict[str, Any]:
    """The visitor's own data (their session, IP and conversation; never agents' notes)."""
    async with rt.store.long_read() as tx:
        session = await access_visitor_session(rt, tx, token, origin)
        exported = await _export_sessions(rt, tx, [session], include_notes=False)
    return export_document(rt.clock.now(), {"session_id": session.id}, exported)


async def do_erase_own_session(rt: Runtime, token: str, origin: str | None) -> dict[str, int]:
    """The visitor erases their session, messages, profile and IP (P9)."""

    async def erase() -> dict[str, int]:
        async with rt.store.transaction() as tx:
            session = await access_visitor_session(rt, tx, token, origin)
            return await _erase(rt, tx, Actor("visitor"), [session], "privacy.erase_own")

    counts = await run_again_when_raced(erase)
    await rt.store.after_purge()
    return counts


# owners: legal export, audit log, DPA


async def do_legal_export(rt: Runtime, actor: Actor, conversation_id: str) -> dict[str, Any]:
    """P12: a conversation with its IP and times, for a public authority's legal request.
    Owners only; the act itself is audited (gathered by a long read, then audited in a short
    transaction, as `do_export_subject`)."""
    async with rt.store.long_read() as tx:
        conversation = await tx.conversations.get(conversation_id)
        missing = conversation_missing(conversation_id)
        if conversation is None:
            raise missing
        await check_role(tx, actor, conversation.website_id, OWNERS, Scope.READ, missing=missing)
        session = await tx.sessions.get(conversation.session_id)
        assert session is not None
        messages = await _all_messages(tx, conversation.id, include_notes=True)
    async with rt.store.transaction() as tx:
        await do_audit(
            rt,
            tx,
            actor,
            "conversation.legal_export",
            target_type="conversation",
            target_id=conversation.id,
            website_id=conversation.website_id,
            details={"messages": len(messages)},
        )
    return {
        "format": LEGAL_FORMAT,
        "generated_at": iso(rt.clock.now()),
        "conversation": conversation_json(conversation, for_visitor=False),
        "session": {
            **agent_session_json(session),
            "ip": {"address": session.ip, "recorded_at": iso(session.ip_seen_at)},
            "permanent_since": iso(session.permanent_since),
        },
        "messages": [message_json(m) for m in messages],
    }


def _audit_cursor(rt: Runtime, entry: AuditEntry) -> str:
    return encode_cursor(rt.settings.secret_key, "audit", entry.at, entry.id)


async def get_audit(
    rt: Runtime,
    actor: Actor,
    website_id: str,
    *,
    action: str | None,
    actor_id: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[AuditEntry], str | None]:
    """The website's audit log, newest first (owners)."""
    before = decode_cursor(rt.settings.secret_key, "audit", cursor) if cursor else None
    async with rt.store.read() as tx:
        missing = NotFound(f"no website {shown(website_id)}", "website_not_found")
        await check_role(tx, actor, website_id, OWNERS, Scope.READ, missing=missing)
        entries = await tx.audit.list_page(
            website_id, action=action, actor_id=actor_id, before=before, limit=limit + 1
        )
    more = len(entries) > limit
    entries = entries[:limit]
    return entries, _audit_cursor(rt, entries[-1]) if more else None


async def get_dpa(rt: Runtime, actor: Actor, website_id: str) -> list[DpaAcceptance]:
    async with rt.store.read() as tx:
        missing = NotFound(f"no website {shown(website_id)}", "website_not_found")
        await check_role(tx, actor, website_id, MANAGERS, Scope.READ, missing=missing)
        return await tx.dpa.list_for_website(website_id)


async def do_accept_dpa(rt: Runtime, actor: Actor, website_id: str, version: str) -> DpaAcceptance:
    """An owner accepts the current data-processing agreement for a website (P10)."""
    if version != DPA_VERSION:
        raise Invalid(f"version: the agreement offered is {DPA_VERSION}", "unknown_dpa_version")
    async with rt.store.transaction() as tx:
        missing = NotFound(f"no website {shown(website_id)}", "website_not_found")
        await check_role(tx, actor, website_id, OWNERS, Scope.WRITE, missing=missing)
        acceptance = DpaAcceptance(
            id=new_id(),
            website_id=website_id,
            version=version,
            operator_id=actor.operator_id,
            accepted_at=rt.clock.now(),
        )
        await tx.dpa.insert(acceptance)
        await do_audit(
            rt,
            tx,
            actor,
            "dpa.accept",
            target_type="website",
            target_id=website_id,
            website_id=website_id,
            details={"version": version},
        )
    return acceptance


async def get_register(rt: Runtime, actor: Actor) -> str:
    """The Art. 30 record as Markdown: every website for the shell, the websites an operator
    manages otherwise."""
    settings = rt.settings
    async with rt.store.read() as tx:
        allowed = await _manageable_websites(tx, actor, Scope.READ)
        websites = [w for w in await tx.websites.list_all() if allowed is None or w.id in allowed]
        with_dpa = [(w, await tx.dpa.list_for_website(w.id)) for w in websites]
        push_services = sorted({host_of(e) or "" for e in await tx.push.endpoints()} - {""})
        hooks = [
            Recipient(w.name, host_of(h.url) or "?", h.events, h.enabled)
            for w in websites
            for h in await tx.webhooks.list_for_website(w.id)
        ]
    database = (
        f"PostgreSQL at {host_of(settings.database_url)}"
        if settings.database_url.startswith("postgres")
        else "SQLite file in the data folder"
    )
    return render_register(
        RegisterInput(
            controller=settings.public_url,
            database=database,
            redis=f"Redis at {host_of(settings.redis_url)}" if settings.redis_url else None,
            smtp=host_of(settings.smtp_url),
            mail_in=("{}:{}".format(*settings.smtp_listen) if settings.smtp_listen else None),
            retention={
                "CAUSERIE_TEMPORARY_SESSION_TTL": duration_words(settings.temporary_session_ttl),
                "CAUSERIE_CHAT_IP_RETENTION": duration_words(settings.chat_ip_retention),
                "CAUSERIE_CONVERSATION_RETENTION": duration_words(settings.conversation_retention),
                "CAUSERIE_COOKIE_MAX_AGE": duration_words(settings.cookie_max_age),
                "CAUSERIE_LOGIN_TTL": duration_words(settings.login_ttl),
                "CAUSERIE_AUDIT_RETENTION": duration_words(settings.audit_retention),
            },
            websites=with_dpa,
            push_services=push_services,
            webhooks=hooks,
            plugins=rt.plugins.recipients(),
        )
    )
