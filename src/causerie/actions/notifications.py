"""What a stored message causes away from the inbox, for every channel (docs/notifications.md,
"When agents are told"): the one action `actions.messages` calls, in the transaction that
stores the message, so that each job exists exactly when the message does.

- Agents, by Web Push: for a visitor's message, one `agents.notify` job per conversation
  (pending ones absorb the next messages). It decides, when it runs, who is to be told
  (`get_recipients`): for a new conversation, every member of the website while no agent is
  online; for a message in an assigned conversation, its assignee while they have no inbox open
  on that website. It then queues one `push.send` job per browser of theirs.
- Agents, by mail: a new conversation (`mail.new_conversation`, after CAUSERIE_NOTIFY_DELAY, told
  to the same `get_recipients` whose preference is on, unless an agent answered meanwhile) and a
  mention in a note (`mail.operator`). The visitor, by mail: the agents' replies they have not
  seen (`mail.visitor_replies`). `actions.mail` runs these jobs.

The channels keep jobs of their own: a push goes at once, a mail after the delay and only if
nobody answered meanwhile.
"""

from __future__ import annotations

from causerie.actions.jobs import do_enqueue
from causerie.domain.jobs import Job, JobKind
from causerie.domain.mail_texts import MailKind
from causerie.domain.models import Author, Conversation, Message, MessageType, Operator, Session
from causerie.domain.ports import Tx
from causerie.domain.push import PushReason
from causerie.runtime import Runtime

# An agent's messages that are replies to the visitor, mailed when unseen: a file alone (an
# invoice, a label to print) is one as much as a text.
_REPLIES = frozenset({MessageType.TEXT, MessageType.FILE})


async def do_notify(
    rt: Runtime,
    tx: Tx,
    session: Session,
    conversation: Conversation,
    message: Message,
    *,
    started: bool,
) -> None:
    """`message` was stored in `tx` (in `conversation` as it now is, `started` by it if so):
    queue the notifications it calls for, on every channel."""
    if message.author is Author.VISITOR:
        await _queue_push(rt, tx, conversation, message, started=started)
    await _queue_mail(rt, tx, session, conversation, message, started)


async def _queue_push(
    rt: Runtime, tx: Tx, conversation: Conversation, message: Message, *, started: bool
) -> None:
    """A visitor's message: the agents' pushes, if this moment calls for them (a conversation
    `started` by it, or one with an assignee)."""
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


async def _queue_mail(
    rt: Runtime,
    tx: Tx,
    session: Session,
    conversation: Conversation,
    message: Message,
    started: bool,
) -> None:
    """The mail `message` may cause. Nothing without a mailer."""
    if rt.mailer is None:
        return
    delay = rt.settings.notify_delay
    by_operator = message.author is Author.OPERATOR
    if message.author is Author.VISITOR and started:
        await do_enqueue(
            rt,
            tx,
            JobKind.MAIL_NEW_CONVERSATION,
            delay=delay,
            key=f"{JobKind.MAIL_NEW_CONVERSATION}:{conversation.id}",
            session_id=session.id,
            payload={"conversation_id": conversation.id},
        )
    elif by_operator and message.type in _REPLIES and session.email:
        # One pending job per conversation: replies within the delay join the first one's.
        await do_enqueue(
            rt,
            tx,
            JobKind.MAIL_VISITOR_REPLIES,
            delay=delay,
            key=f"{JobKind.MAIL_VISITOR_REPLIES}:{conversation.id}",
            session_id=session.id,
            payload={"conversation_id": conversation.id, "since": message.id},
        )
    elif by_operator and message.type is MessageType.NOTE and "@" in message.body:
        for operator in mentioned(await _members_of(tx, conversation.website_id), message):
            await do_enqueue(
                rt,
                tx,
                JobKind.MAIL_OPERATOR,
                key=f"{JobKind.MAIL_OPERATOR}:mention:{message.id}:{operator.id}",
                session_id=session.id,
                payload={
                    "kind": MailKind.MENTION.value,
                    "conversation_id": conversation.id,
                    "operator_id": operator.id,
                    "message_id": message.id,
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


def mentioned(members: list[Operator], note: Message) -> list[Operator]:
    """The members a note names as `@Full Name` or `@FirstName` (any case), but its author."""
    body = note.body.casefold()
    found = []
    for operator in members:
        if operator.id == note.operator_id or not operator.name.strip():
            continue
        names = {operator.name.casefold(), operator.name.split()[0].casefold()}
        if any(_names_at(body, name) for name in names):
            found.append(operator)
    return found


def _names_at(body: str, name: str) -> bool:
    at = body.find("@" + name)
    while at != -1:
        end = at + 1 + len(name)
        if end == len(body) or not (body[end].isalnum() or body[end] == "_"):
            return True
        at = body.find("@" + name, at + 1)
    return False


async def _members_of(tx: Tx, website_id: str) -> list[Operator]:
    return [m.operator for m in await tx.members.list_for_website(website_id) if not m.pending]
