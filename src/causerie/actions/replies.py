"""Canned replies of a website: agents read them, admins manage them (docs/inbox.md "Canned
replies"). The variables of a body are checked here (the built-in ones and those plugins
declare) and expanded by the inbox, which asks `get_reply_variables` for the plugins' values."""

from __future__ import annotations

from dataclasses import replace

from causerie.actions.access import ANY_ROLE, MANAGERS, check_role
from causerie.actions.audit import do_audit
from causerie.actions.inbox import conversation_missing
from causerie.domain.errors import Conflict, NotFound, shown
from causerie.domain.models import Actor, Scope
from causerie.domain.ports import Tx
from causerie.domain.replies import CannedReply, check_body, check_shortcut, check_title
from causerie.runtime import Runtime
from causerie.tokens import new_id

PER_WEBSITE = 500


def _website_missing(website_id: str) -> NotFound:
    return NotFound(f"no website {shown(website_id)}", "website_not_found")


def _reply_missing(reply_id: str) -> NotFound:
    return NotFound(f"no canned reply {shown(reply_id)}", "reply_not_found")


def _taken(shortcut: str) -> Conflict:
    return Conflict(f"shortcut: /{shortcut} is another reply's", "shortcut_taken")


async def _audit(
    rt: Runtime, tx: Tx, actor: Actor, action: str, website_id: str, reply_id: str
) -> None:
    """Managing canned replies is a change of the website's settings: ids only."""
    await do_audit(
        rt, tx, actor, action, target_type="reply", target_id=reply_id, website_id=website_id
    )


async def get_replies(rt: Runtime, actor: Actor, website_id: str) -> list[CannedReply]:
    async with rt.store.read() as tx:
        missing = _website_missing(website_id)
        await check_role(tx, actor, website_id, ANY_ROLE, Scope.READ, missing=missing)
        return await tx.replies.list_for_website(website_id)


async def do_create_reply(
    rt: Runtime, actor: Actor, website_id: str, *, shortcut: str, title: str, body: str
) -> CannedReply:
    reply = CannedReply(
        id=new_id(),
        website_id=website_id,
        shortcut=check_shortcut(shortcut),
        title=check_title(title),
        body=check_body(body, rt.plugins.reply_variable_names()),
        created_at=rt.clock.now(),
        updated_at=rt.clock.now(),
    )
    async with rt.store.transaction() as tx:
        missing = _website_missing(website_id)
        await check_role(tx, actor, website_id, MANAGERS, Scope.WRITE, missing=missing)
        await tx.websites.lock(website_id)  # creations counted one after the other
        if len(await tx.replies.list_for_website(website_id)) >= PER_WEBSITE:
            raise Conflict(f"a website has at most {PER_WEBSITE} canned replies", "too_many")
        if not await tx.replies.insert(reply):
            raise _taken(reply.shortcut)
        await _audit(rt, tx, actor, "reply.create", website_id, reply.id)
    return reply


async def do_update_reply(
    rt: Runtime,
    actor: Actor,
    website_id: str,
    reply_id: str,
    *,
    shortcut: str | None = None,
    title: str | None = None,
    body: str | None = None,
) -> CannedReply:
    """Change the fields given (None: kept)."""
    shortcut = None if shortcut is None else check_shortcut(shortcut)
    title = None if title is None else check_title(title)
    body = None if body is None else check_body(body, rt.plugins.reply_variable_names())
    async with rt.store.transaction() as tx:
        missing = _reply_missing(reply_id)
        await check_role(tx, actor, website_id, MANAGERS, Scope.WRITE, missing=missing)
        await tx.websites.lock(website_id)  # a change at the same moment keeps its field
        reply = await tx.replies.get(website_id, reply_id)
        if reply is None:
            raise missing
        updated = replace(
            reply,
            shortcut=reply.shortcut if shortcut is None else shortcut,
            title=reply.title if title is None else title,
            body=reply.body if body is None else body,
            updated_at=rt.clock.now(),
        )
        if not await tx.replies.update(updated):
            raise _taken(updated.shortcut)
        await _audit(rt, tx, actor, "reply.update", website_id, reply.id)
    return updated


async def do_delete_reply(rt: Runtime, actor: Actor, website_id: str, reply_id: str) -> None:
    async with rt.store.transaction() as tx:
        missing = _reply_missing(reply_id)
        await check_role(tx, actor, website_id, MANAGERS, Scope.WRITE, missing=missing)
        if not await tx.replies.delete(website_id, reply_id):
            raise missing
        await _audit(rt, tx, actor, "reply.delete", website_id, reply_id)


async def get_reply_variables(rt: Runtime, actor: Actor, conversation_id: str) -> dict[str, str]:
    """The values plugins give the variables they declare, for this conversation (read by
    whoever may read the conversation; another website's is not found)."""
    async with rt.store.read() as tx:
        conversation = await tx.conversations.get(conversation_id)
        missing = conversation_missing(conversation_id)
        if conversation is None:
            raise missing
        await check_role(tx, actor, conversation.website_id, ANY_ROLE, Scope.READ, missing=missing)
        session = await tx.sessions.get(conversation.session_id)
    if session is None:
        raise missing
    declared = rt.plugins.reply_variable_names()
    values = rt.plugins.reply_variables(rt, conversation, session)
    return {name: value for name, value in values.items() if name in declared}
