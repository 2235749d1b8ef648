"""Read marks (stored): each side's last read message and its unread count."""

from __future__ import annotations

from causerie.actions.access import ANY_ROLE, check_role
from causerie.actions.events import do_emit
from causerie.domain.errors import Invalid, NotFound, shown
from causerie.domain.events import EventType, Stream
from causerie.domain.models import Actor, Author, Scope
from causerie.runtime import Runtime


async def do_mark_read(
    rt: Runtime,
    *,
    conversation_id: str,
    reader: Author,
    up_to: str,
    actor: Actor | None = None,
    session_id: str | None = None,
) -> bool:
    """Move `reader`'s mark to the message `up_to` (never backwards); emit `read` on both streams.

    A visitor reads only their own conversation (`session_id`); an operator needs a role on its
    website (`actor`). A note or an event line marks the last message before it that the visitor
    sees: the visitor is told the mark, never a private message's id. Returns False when the
    mark was already there.
    """
    if not up_to or len(up_to) > 64:
        raise Invalid("up_to must be a message id", "invalid_message_id")
    async with rt.store.transaction() as tx:
        conversation = await tx.conversations.get(conversation_id)
        if conversation is None or (
            session_id is not None and conversation.session_id != session_id
        ):
            raise NotFound(f"no conversation {shown(conversation_id)}", "conversation_not_found")
        if actor is not None:
            missing = NotFound(
                f"no conversation {shown(conversation_id)}", "conversation_not_found"
            )
            await check_role(
                tx, actor, conversation.website_id, ANY_ROLE, Scope.WRITE, missing=missing
            )
        if await tx.messages.get(conversation.id, up_to) is None:
            raise NotFound(f"no message {shown(up_to)} in this conversation", "message_not_found")
        mark = await tx.conversations.mark_read(conversation.id, reader, up_to)
        if mark is None:
            return False
        data = {"by": reader.value, "up_to": mark}
        payload = {"conversation_id": conversation.id, **data}
        for stream in (
            Stream.of_website(conversation.website_id),
            Stream.of_session(conversation.session_id),
        ):
            await do_emit(
                rt,
                tx,
                stream,
                EventType.READ,
                conversation.id,
                payload,
                session_id=conversation.session_id,
                data=data,
            )
    return True
