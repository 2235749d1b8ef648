"""Conversations. Deleting one destroys the whole session it belongs to (P20)."""

from __future__ import annotations

from functools import partial

from causerie.actions.access import MANAGERS, check_role
from causerie.actions.audit import do_audit
from causerie.actions.events import do_signal_deleted, do_signal_session_gone
from causerie.actions.file_deletion import do_release_orphan_files
from causerie.actions.jobs import do_enqueue_search_reindex
from causerie.actions.races import run_again_when_raced
from causerie.actions.webhook_queue import do_queue_erasure
from causerie.domain.errors import NotFound, shown
from causerie.domain.models import Actor, Scope
from causerie.runtime import Runtime


async def do_delete_conversation(rt: Runtime, actor: Actor, conversation_id: str) -> int:
    """Destroy the conversation, its session, messages, profile and IP; owners and admins only.

    Writes an audit entry holding ids and a count, nothing personal. Returns the number of
    messages destroyed. Run again when PostgreSQL ended it in a race (`run_again_when_raced`):
    a webhook's delivery about the session writing a job that names it.
    """
    count = await run_again_when_raced(partial(_delete, rt, actor, conversation_id))
    await rt.store.after_purge()
    return count


async def _delete(rt: Runtime, actor: Actor, conversation_id: str) -> int:
    async with rt.store.transaction() as tx:
        conversation = await tx.conversations.get(conversation_id)
        missing = NotFound(f"no conversation {shown(conversation_id)}", "conversation_not_found")
        if conversation is None:
            raise missing
        await check_role(tx, actor, conversation.website_id, MANAGERS, Scope.WRITE, missing=missing)
        count = await tx.messages.count(conversation.id)
        await tx.sessions.delete(conversation.session_id)
        do_signal_deleted(rt, tx, conversation.website_id, conversation.id)
        do_signal_session_gone(rt, tx, conversation.session_id)
        await do_queue_erasure(
            rt, tx, conversation.website_id, conversation.session_id, conversation.id, erased=False
        )
        await do_audit(
            rt,
            tx,
            actor,
            "conversation.delete",
            target_type="conversation",
            target_id=conversation.id,
            website_id=conversation.website_id,
            details={"session_id": conversation.session_id, "messages": count},
        )
        await do_enqueue_search_reindex(rt, tx)
        await do_release_orphan_files(rt, tx)
    return count
