"""Auto-resolve: a website's open conversations without a message for its
`auto_resolve_minutes` are resolved by the periodic `auto_resolve` job, with an event line in
the thread (agents only) and `conversation.updated` both ways; a visitor who writes again
reopens theirs (actions/messages.py). See docs/inbox.md "Auto-resolve"."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from causerie.actions.assignment import add_conversation, do_queue_assignment
from causerie.actions.events import Emitter
from causerie.actions.reports import note_resolved
from causerie.actions.webhook_queue import Occurrence, do_queue_webhooks
from causerie.domain.events import EventType, Stream
from causerie.domain.jobs import Job
from causerie.domain.languages import auto_resolved_line
from causerie.domain.models import Author, ConversationState, Message, MessageType
from causerie.domain.webhooks import WebhookEvent
from causerie.domain.wire import conversation_json, message_json
from causerie.runtime import Runtime
from causerie.tokens import new_id

EVERY = timedelta(minutes=1)  # how often the job looks; a resolution is at most this late
BATCH = 100


async def do_auto_resolve(rt: Runtime) -> int:
    """Resolve every idle conversation of the websites that set a period; how many. Harmless
    when repeated: only open conversations idle past the period are taken."""
    async with rt.store.read() as tx:
        websites = await tx.websites.list_all()
    resolved = 0
    for website in websites:
        minutes = website.settings.get("auto_resolve_minutes")
        if not isinstance(minutes, int) or minutes <= 0:
            continue
        while True:
            now = rt.clock.now()
            async with rt.store.transaction() as tx:
                idle = await tx.conversations.idle(
                    website.id, now - timedelta(minutes=minutes), BATCH
                )
                emitter = Emitter(rt)
                occurrences = []
                for conversation in idle:
                    await tx.conversations.set_state(
                        conversation.id, ConversationState.RESOLVED, now
                    )
                    await note_resolved(tx, conversation, resolved=True, by=None, at=now)
                    updated = replace(
                        conversation,
                        state=ConversationState.RESOLVED,
                        updated_at=now,
                        resolved_at=now,
                    )
                    add_conversation(emitter, updated)
                    occurrences.append(
                        Occurrence(
                            website.id,
                            WebhookEvent.CONVERSATION_RESOLVED,
                            {"conversation": conversation_json(updated, for_visitor=False)},
                            conversation.session_id,
                        )
                    )
                    event, body = auto_resolved_line(minutes)
                    line = Message(
                        id=new_id(),
                        conversation_id=conversation.id,
                        author=Author.SYSTEM,
                        type=MessageType.EVENT,
                        body=body,
                        client_id=f"auto-resolve:{new_id()}",
                        created_at=now,
                        event=event,
                    )
                    await tx.messages.insert(line)
                    emitter.add(
                        Stream.of_website(website.id),
                        EventType.MESSAGE_CREATED,
                        line.id,
                        {"message": message_json(line)},
                        session_id=conversation.session_id,
                    )
                await emitter.flush(tx)
                await do_queue_webhooks(rt, tx, occurrences)
                if any(c.assignee_id for c in idle):
                    await do_queue_assignment(rt, tx, website.id)
            resolved += len(idle)
            if len(idle) < BATCH:
                break
    return resolved


async def run_auto_resolve(rt: Runtime, job: Job) -> None:
    await do_auto_resolve(rt)
