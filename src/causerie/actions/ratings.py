"""A visitor rates their resolved conversation (docs/inbox.md "Ratings"): 1 to 5 and an
optional comment, one rating per resolution (rating again replaces it). Agents hear it as
`conversation.rated` on the website's stream; the visitor's other tabs on theirs."""

from __future__ import annotations

from causerie.actions.events import Emitter
from causerie.actions.inbox import conversation_missing
from causerie.actions.reports import note_rating
from causerie.actions.sessions import access_visitor_session
from causerie.actions.webhook_queue import Occurrence, do_queue_webhooks
from causerie.domain.errors import Conflict
from causerie.domain.events import EventType, Stream
from causerie.domain.models import Conversation, ConversationState
from causerie.domain.ratings import Rating, check_rating
from causerie.domain.webhooks import WebhookEvent
from causerie.domain.wire import rating_json
from causerie.runtime import Runtime
from causerie.tokens import new_id


async def do_rate_conversation(
    rt: Runtime,
    *,
    token: str,
    origin: str | None,
    conversation_id: str,
    rating: object,
    comment: object = None,
) -> Rating:
    value, text = check_rating(rating, comment)
    async with rt.store.transaction() as tx:
        session = await access_visitor_session(rt, tx, token, origin)
        conversation = await tx.conversations.get_by_session(session.id)
        if conversation is None or conversation.id != conversation_id:
            raise conversation_missing(conversation_id)
        if conversation.state is not ConversationState.RESOLVED or conversation.resolved_at is None:
            raise Conflict("the conversation is not resolved: rate it once it is", "not_resolved")
        now = rt.clock.now()
        earlier = await tx.ratings.list_for_conversation(conversation.id)
        replaced = next((r for r in earlier if r.resolved_at == conversation.resolved_at), None)
        stored = await tx.ratings.put(
            Rating(
                id=new_id(),
                website_id=conversation.website_id,
                conversation_id=conversation.id,
                operator_id=conversation.assignee_id,
                resolved_at=conversation.resolved_at,
                rating=value,
                comment=text,
                created_at=now,
            )
        )
        await note_rating(
            tx,
            conversation.website_id,
            stored.operator_id,
            conversation.resolved_at,
            stored.rating,
            replaced=None if replaced is None else replaced.rating,
            conversation=conversation,
        )
        emitter = Emitter(rt)
        for stream in (Stream.of_website(session.website_id), Stream.of_session(session.id)):
            emitter.add(
                stream,
                EventType.CONVERSATION_RATED,
                stored.id,
                rating_json(stored),
                session_id=session.id,
            )
        await emitter.flush(tx)
        await do_queue_webhooks(
            rt,
            tx,
            [
                Occurrence(
                    session.website_id,
                    WebhookEvent.CONVERSATION_RATED,
                    rating_json(stored),
                    session.id,
                )
            ],
        )
    return stored


async def get_rating_state(
    rt: Runtime, *, token: str, origin: str | None
) -> tuple[Conversation | None, Rating | None]:
    """The visitor's conversation and its rating for the current resolution (None when it is
    open, or resolved and not rated yet): what the chatbox needs to ask, or not, on opening."""
    async with rt.store.read() as tx:
        session = await access_visitor_session(rt, tx, token, origin)
        conversation = await tx.conversations.get_by_session(session.id)
        if conversation is None or conversation.state is not ConversationState.RESOLVED:
            return conversation, None
        ratings = await tx.ratings.list_for_conversation(conversation.id)
    current = [r for r in ratings if r.resolved_at == conversation.resolved_at]
    return conversation, (current[0] if current else None)
