"""What causes mail (docs/notifications.md): called by `actions.messages` in the transaction
that stores a message, it enqueues the jobs of `actions.mail`, which decide when they run."""

from __future__ import annotations

from causerie.actions.jobs import do_enqueue
from causerie.domain.jobs import JobKind
from causerie.domain.mail_texts import MailKind
from causerie.domain.models import Author, Conversation, Message, MessageType, Operator, Session
from causerie.domain.ports import Tx
from causerie.runtime import Runtime


async def do_schedule_message_mail(
    rt: Runtime,
    tx: Tx,
    session: Session,
    conversation: Conversation,
    message: Message,
    started: bool,
) -> None:
    """A message was stored in `tx`: enqueue the mail it may cause. Nothing without a mailer."""
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
    elif by_operator and message.type is MessageType.TEXT and session.email:
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
        for operator in mentioned(await members_of(tx, conversation.website_id), message):
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


async def members_of(tx: Tx, website_id: str) -> list[Operator]:
    return [m.operator for m in await tx.members.list_for_website(website_id) if not m.pending]
