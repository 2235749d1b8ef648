"""The operators of a website: invitations, roles, removal (docs/api.md "Roles", "Invitations").

Admins manage agents and admins; only an owner grants, changes or removes the owner role; a
website always keeps an owner; anyone may leave a website they belong to (but its last owner).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from causerie.actions.access import ANY_ROLE, MANAGERS, check_manages, check_role, managers_of
from causerie.actions.accounts import create_link, link_url
from causerie.actions.audit import do_audit
from causerie.actions.events import do_signal_access_ended
from causerie.actions.inbox import emit_conversation
from causerie.domain.access import ACCESS_REVOKED, member_key
from causerie.domain.accounts import check_operator_email
from causerie.domain.errors import Conflict, NotFound, shown
from causerie.domain.models import Actor, LinkPurpose, Member, Operator, Role, Scope
from causerie.domain.ports import Tx
from causerie.runtime import Runtime
from causerie.tokens import new_id


def _website_missing(website_id: str) -> NotFound:
    return NotFound(f"no website {shown(website_id)}", "website_not_found")


def _operator_missing(operator_id: str) -> NotFound:
    return NotFound(f"no operator {shown(operator_id)} on this website", "operator_not_found")


async def get_members(rt: Runtime, actor: Actor, website_id: str) -> list[Member]:
    """The website's members, then the people invited who have not accepted yet (`pending`)."""
    async with rt.store.read() as tx:
        missing = _website_missing(website_id)
        await check_role(tx, actor, website_id, ANY_ROLE, Scope.READ, missing=missing)
        members = await tx.members.list_for_website(website_id)
        return members + await tx.links.list_invitations(website_id, rt.clock.now())


@dataclass(frozen=True)
class Invited:
    member: Member
    invitation_url: str  # the invitation's one-time link, shown once


async def do_invite(rt: Runtime, actor: Actor, website_id: str, email: str, role: Role) -> Invited:
    """Invite a person to one website with one role: a one-time link bound to both, which grants
    them when it is accepted (docs/api.md "Invitations"). Until then the person is listed as
    `pending` and is no member: an invitation grants nothing by itself, and a link grants only
    its own website and role, whoever holds it and whatever other websites invited them."""
    address = check_operator_email(email)
    now = rt.clock.now()
    async with rt.store.transaction() as tx:
        missing = _website_missing(website_id)
        await check_role(tx, actor, website_id, managers_of(role), Scope.WRITE, missing=missing)
        operator = await tx.operators.get_by_email(address)
        if operator is None:
            operator = Operator(
                id=new_id(), email=address, name=address.split("@")[0], created_at=now
            )
            await tx.operators.insert(operator, None)
        elif (
            await tx.members.get_role(operator.id, website_id) is not None
            or await tx.links.get_invitation(website_id, operator.id, now) is not None
        ):
            raise Conflict(
                f"{shown(address)} is already a member of this website", "already_member"
            )
        _, token = await create_link(
            rt, tx, LinkPurpose.INVITE, operator.id, website_id=website_id, role=role
        )
        await do_audit(
            rt,
            tx,
            actor,
            "operator.invite",
            target_type="operator",
            target_id=operator.id,
            website_id=website_id,
            details={"role": role.value},
        )
    return Invited(Member(operator, role, pending=True), link_url(rt, LinkPurpose.INVITE, token))


async def _member(rt: Runtime, tx: Tx, website_id: str, operator_id: str) -> Member:
    for member in await tx.members.list_for_website(website_id):
        if member.operator.id == operator_id:
            return member
    for member in await tx.links.list_invitations(website_id, rt.clock.now()):
        if member.operator.id == operator_id:
            return member
    raise _operator_missing(operator_id)


async def do_set_role(
    rt: Runtime, actor: Actor, website_id: str, operator_id: str, role: Role
) -> Member:
    async with rt.store.transaction() as tx:
        missing = _website_missing(website_id)
        mine = await check_role(tx, actor, website_id, MANAGERS, Scope.WRITE, missing=missing)
        member = await _member(rt, tx, website_id, operator_id)
        check_manages(
            mine, role, member.role, refusal="only an owner grants or takes the owner role"
        )
        if member.pending:
            invitation = await tx.links.get_invitation(website_id, operator_id, rt.clock.now())
            assert invitation is not None
            await tx.links.set_role(invitation.id, role)
        else:
            if member.role is Role.OWNER and role is not Role.OWNER:
                await _keep_an_owner(tx, website_id)
            await tx.members.set_role(website_id, operator_id, role, rt.clock.now())
        await do_audit(
            rt,
            tx,
            actor,
            "operator.role",
            target_type="operator",
            target_id=operator_id,
            website_id=website_id,
            details={"role": role.value},
        )
    return Member(member.operator, role, member.pending)


async def do_remove_member(rt: Runtime, actor: Actor, website_id: str, operator_id: str) -> None:
    """Remove an operator from a website; their conversations there become unassigned, and
    their sockets on it close on every node once committed (`access.ended`)."""
    now = rt.clock.now()
    async with rt.store.transaction() as tx:
        missing = _website_missing(website_id)
        leaving = actor.operator_id == operator_id
        allowed = ANY_ROLE if leaving else MANAGERS
        mine = await check_role(tx, actor, website_id, allowed, Scope.WRITE, missing=missing)
        member = await _member(rt, tx, website_id, operator_id)
        if not leaving:
            check_manages(mine, member.role, refusal="only an owner removes an owner")
        if member.role is Role.OWNER and not member.pending:
            await _keep_an_owner(tx, website_id)
        if member.pending:  # the invitation is withdrawn: its link no longer works
            invitation = await tx.links.get_invitation(website_id, operator_id, now)
            assert invitation is not None
            await tx.links.delete(invitation.id)
        await tx.members.delete(website_id, operator_id)
        await tx.teams.remove_member_everywhere(website_id, operator_id)
        do_signal_access_ended(rt, tx, ACCESS_REVOKED, [member_key(website_id, operator_id)])
        for conversation_id in await tx.conversations.unassign_all(website_id, operator_id, now):
            conversation = await tx.conversations.get(conversation_id)
            assert conversation is not None
            was = replace(conversation, assignee_id=operator_id)
            await emit_conversation(rt, tx, conversation, was=was)
        await do_audit(
            rt,
            tx,
            actor,
            "operator.remove",
            target_type="operator",
            target_id=operator_id,
            website_id=website_id,
        )


async def _keep_an_owner(tx: Tx, website_id: str) -> None:
    # Counted behind the website's lock: two owners leaving at once (PostgreSQL) are counted
    # one after the other, and the second is refused.
    await tx.websites.lock(website_id)
    if await tx.members.count_owners(website_id) <= 1:
        raise Conflict(
            "a website keeps at least one owner; make someone else owner first", "last_owner"
        )
