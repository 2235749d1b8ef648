"""Labels of a website, and the labels of a conversation (docs/inbox.md "Labels").

Agents read the labels and set them on conversations; admins create, change and delete them.
A conversation's change of labels is a `conversation.updated` on the website's stream only:
the visitor's view of a conversation holds no labels.
"""

from __future__ import annotations

from dataclasses import replace

from causerie.actions.access import ANY_ROLE, MANAGERS, check_role
from causerie.actions.audit import do_audit
from causerie.actions.events import do_emit
from causerie.actions.inbox import conversation_missing
from causerie.actions.reports import note_regrouped
from causerie.domain.errors import Conflict, Invalid, NotFound, shown
from causerie.domain.events import EventType, Stream
from causerie.domain.labels import PER_CONVERSATION, PER_WEBSITE, Label, check_color, check_name
from causerie.domain.models import Actor, Conversation, Scope
from causerie.domain.ports import Tx
from causerie.domain.reports import Dimension
from causerie.domain.wire import conversation_json
from causerie.runtime import Runtime
from causerie.tokens import new_id


def _website_missing(website_id: str) -> NotFound:
    return NotFound(f"no website {shown(website_id)}", "website_not_found")


def label_missing(label_id: str) -> NotFound:
    return NotFound(f"no label {shown(label_id)}", "label_not_found")


def _taken(name: str) -> Conflict:
    return Conflict(f"name: the website has a label {shown(name)}", "label_name_taken")


async def _emit(rt: Runtime, tx: Tx, conversation: Conversation) -> None:
    await do_emit(
        rt,
        tx,
        Stream.of_website(conversation.website_id),
        EventType.CONVERSATION_UPDATED,
        conversation.id,
        {"conversation": conversation_json(conversation, for_visitor=False)},
        session_id=conversation.session_id,
    )


async def _audit(
    rt: Runtime, tx: Tx, actor: Actor, action: str, label: Label, **counts: int
) -> None:
    """Managing labels is a change of the website's settings: ids and counts only."""
    await do_audit(
        rt,
        tx,
        actor,
        action,
        target_type="label",
        target_id=label.id,
        website_id=label.website_id,
        details=dict(counts) or None,
    )


async def get_labels(rt: Runtime, actor: Actor, website_id: str) -> list[Label]:
    async with rt.store.read() as tx:
        missing = _website_missing(website_id)
        await check_role(tx, actor, website_id, ANY_ROLE, Scope.READ, missing=missing)
        return await tx.labels.list_for_website(website_id)


async def do_create_label(
    rt: Runtime, actor: Actor, website_id: str, *, name: str, color: str
) -> Label:
    label = Label(new_id(), website_id, check_name(name), check_color(color), rt.clock.now())
    async with rt.store.transaction() as tx:
        missing = _website_missing(website_id)
        await check_role(tx, actor, website_id, MANAGERS, Scope.WRITE, missing=missing)
        await tx.websites.lock(website_id)  # creations counted one after the other
        if await tx.labels.count(website_id) >= PER_WEBSITE:
            raise Conflict(f"a website has at most {PER_WEBSITE} labels", "too_many")
        if not await tx.labels.insert(label):
            raise _taken(label.name)
        await _audit(rt, tx, actor, "label.create", label)
    return label


async def do_update_label(
    rt: Runtime,
    actor: Actor,
    website_id: str,
    label_id: str,
    *,
    name: str | None = None,
    color: str | None = None,
) -> Label:
    """Rename or recolour (None: kept). Conversations hold the label's id: nothing else moves."""
    name = None if name is None else check_name(name)
    color = None if color is None else check_color(color)
    async with rt.store.transaction() as tx:
        missing = label_missing(label_id)
        await check_role(tx, actor, website_id, MANAGERS, Scope.WRITE, missing=missing)
        await tx.websites.lock(website_id)  # a change at the same moment keeps its field
        label = await tx.labels.get(website_id, label_id)
        if label is None:
            raise missing
        updated = replace(
            label,
            name=label.name if name is None else name,
            color=label.color if color is None else color,
        )
        if not await tx.labels.update(updated):
            raise _taken(updated.name)
        await _audit(rt, tx, actor, "label.update", updated)
    return updated


async def do_delete_label(rt: Runtime, actor: Actor, website_id: str, label_id: str) -> int:
    """Delete the label and take it off every conversation (each a `conversation.updated`);
    returns how many conversations held it."""
    async with rt.store.transaction() as tx:
        missing = label_missing(label_id)
        await check_role(tx, actor, website_id, MANAGERS, Scope.WRITE, missing=missing)
        # Locked first: a conversation given this label meanwhile is either among `holding`
        # or waits for this deletion and finds the label gone.
        label = await tx.labels.get_to_delete(website_id, label_id)
        if label is None:
            raise missing
        now = rt.clock.now()
        holding = await tx.conversations.with_label(website_id, label_id)
        for conversation in holding:
            kept = tuple(i for i in conversation.labels if i != label_id)
            await tx.conversations.set_labels(conversation.id, kept, now)
            await _emit(rt, tx, replace(conversation, labels=kept, updated_at=now))
        await tx.labels.delete(website_id, label_id)
        await tx.reports.forget(website_id, Dimension.LABEL, label_id)
        await _audit(rt, tx, actor, "label.delete", label, conversations=len(holding))
    return len(holding)


def check_label_ids(label_ids: list[str]) -> tuple[str, ...]:
    """The ids without repeats, in the order given; at most `PER_CONVERSATION`."""
    unique = tuple(dict.fromkeys(label_ids))
    if len(unique) > PER_CONVERSATION:
        raise Invalid(f"labels: at most {PER_CONVERSATION} on a conversation", "too_many_labels")
    return unique


async def do_set_labels(
    rt: Runtime, actor: Actor, conversation_id: str, label_ids: list[str]
) -> Conversation:
    """Give the conversation exactly these labels of its website (an empty list: none).

    A label of another website is reported as not found, like one that does not exist."""
    wanted = check_label_ids(label_ids)
    async with rt.store.transaction() as tx:
        conversation = await tx.conversations.get(conversation_id)
        missing = conversation_missing(conversation_id)
        if conversation is None:
            raise missing
        website_id = conversation.website_id
        await check_role(tx, actor, website_id, ANY_ROLE, Scope.WRITE, missing=missing)
        kept = await tx.labels.keep(website_id, wanted)
        for label_id in wanted:
            if label_id not in kept:
                raise NotFound(
                    f"labels: no label {shown(label_id)} on this website", "label_not_found"
                )
        if wanted == conversation.labels:
            return conversation
        now = rt.clock.now()
        await tx.conversations.set_labels(conversation.id, wanted, now)
        updated = replace(conversation, labels=wanted, updated_at=now)
        await note_regrouped(tx, conversation, updated)
        await _emit(rt, tx, updated)
    return updated
