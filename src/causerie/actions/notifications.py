"""When agents are told of a visitor's message away from the inbox (docs/notifications.md): the
one trigger that every channel (Web Push now, mail later) follows.

`do_notify_agents` is called in the transaction that stores a visitor's message, and queues one
`agents.notify` job per conversation (pending ones absorb the next messages). The job decides,
when it runs, who is to be told: for a new conversation, every member of the website while no
agent is online; for a message in an assigned conversation, its assignee while they have no
inbox open on that website. It then queues one `push.send` job per browser of theirs.
"""

from __future__ import annotations

from causerie.actions.jobs import do_enqueue
from causerie.domain.jobs import Job, JobKind
from causerie.domain.models import Conversation, Message
from causerie.domain.ports import Tx
from causerie.domain.push import PushReason
from causerie.runtime import Runtime


async def do_notify_agents(
    rt: Runtime, tx: Tx, conversation: Conversation, message: Message, *, started: bool
) -> None:
    """A visitor's `message` was stored in `tx`: queue the notification of agents, if this
    moment calls for one (a conversation `started` by it, or one with an assignee)."""
    if started:
        reason = PushReason.NEW_CONVERSATION
    elif conversation.assignee_id is not None:
        reason = PushReason.VISITOR_MESSAGE
    else:
        return
    await do_enqueue(
        rt,
        tx,
        JobKind.AGENTS_NOTIFY,
        key=f"{JobKind.AGENTS_NOTIFY}:{conversation.id}",
        session_id=conversation.session_id,
        payload={
            "conversation_id": conversation.id,
            "message_id": message.id,
            "reason": reason.value,
        },
    )


async def get_recipients(rt: Runtime, conversation: Conversation, reason: PushReason) -> list[str]:
    """The operators to tell now, by id (none while someone who would see it is connected)."""
    website_id = conversation.website_id
    if reason is PushReason.NEW_CONVERSATION:
        if await rt.presence.website_online(website_id):
            return []
        async with rt.store.read() as tx:
            members = await tx.members.list_for_website(website_id)
        return [m.operator.id for m in members if not m.pending]
    assignee = conversation.assignee_id
    if assignee is None or await rt.presence.agent_connected(website_id, assignee):
        return []
    return [assignee]


async def do_notify_agents_now(rt: Runtime, job: Job) -> None:
    """Job `agents.notify`: queue one `push.send` per browser of each operator to tell."""
    reason = PushReason(job.payload["reason"])
    async with rt.store.read() as tx:
        conversation = await tx.conversations.get(job.payload["conversation_id"])
    if conversation is None:
        return
    recipients = await get_recipients(rt, conversation, reason)
    if not recipients:
        return
    async with rt.store.transaction() as tx:
        for subscription in await tx.push.list_for_operators(recipients):
            await do_enqueue(
                rt,
                tx,
                JobKind.PUSH_SEND,
                key=f"{JobKind.PUSH_SEND}:{subscription.id}:{conversation.id}",
                session_id=conversation.session_id,
                payload={
                    "subscription_id": subscription.id,
                    "conversation_id": conversation.id,
                    "message_id": job.payload["message_id"],
                    "reason": reason.value,
                },
            )
