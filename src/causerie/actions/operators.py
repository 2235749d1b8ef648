"""Operators (agents) and their role on each website."""

from __future__ import annotations

from dataclasses import dataclass

from causerie.actions.api_tokens import store_api_token
from causerie.actions.audit import do_audit
from causerie.actions.events import do_signal_access_ended
from causerie.domain.access import CREDENTIAL_REVOKED, login_key
from causerie.domain.accounts import check_name, check_operator_email
from causerie.domain.errors import Forbidden, Invalid, NotFound, shown
from causerie.domain.models import Actor, ApiToken, Operator, Role, Scope
from causerie.runtime import Runtime
from causerie.tokens import hash_password, new_id, new_password, new_token


def check_role_name(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise Invalid("role must be owner, admin or agent", "invalid_role") from None


@dataclass(frozen=True)
class AddedOperator:
    operator: Operator
    created: bool
    one_time_password: str | None  # shown once to whoever created the account, never stored


async def do_add_operator(
    rt: Runtime,
    actor: Actor,
    email: str,
    *,
    website_id: str | None,
    role: Role | None,
    name: str | None = None,
) -> AddedOperator:
    """Create the operator if new (with a one-time password) and give them a role on a website."""
    email = check_operator_email(email)
    name = None if name is None else check_name(name)
    now = rt.clock.now()
    password = None
    async with rt.store.transaction() as tx:
        if website_id is not None and await tx.websites.get(website_id) is None:
            raise NotFound(f"no website {shown(website_id)}", "website_not_found")
        operator = await tx.operators.get_by_email(email)
        created = operator is None
        if operator is None:
            password = new_password()
            operator = Operator(
                id=new_id(), email=email, name=name or email.split("@")[0], created_at=now
            )
            await tx.operators.insert(operator, hash_password(password))
            await do_audit(
                rt, tx, actor, "operator.create", target_type="operator", target_id=operator.id
            )
        if website_id is not None:
            granted = role or Role.AGENT
            await tx.members.set_role(website_id, operator.id, granted, now)
            await do_audit(
                rt,
                tx,
                actor,
                "operator.role",
                target_type="operator",
                target_id=operator.id,
                website_id=website_id,
                details={"role": granted.value},
            )
    return AddedOperator(operator, created, password)


async def get_operators_without_website(rt: Runtime, actor: Actor) -> list[Operator]:
    """The accounts no website has (yet): `causerie operator list` shows them too. Only the shell
    sees every account; over the API an operator sees the members of their own websites."""
    if actor.kind != "cli":
        raise Forbidden("only the command line lists the operators of no website")
    async with rt.store.read() as tx:
        return await tx.operators.list_without_website()


async def do_create_api_token(
    rt: Runtime, actor: Actor, email: str, *, name: str, scopes: frozenset[Scope]
) -> tuple[ApiToken, str]:
    """A bearer token acting as the operator within `scopes`; returned once, stored hashed."""
    email = check_operator_email(email)
    name = check_name(name) if name.strip() else "token"
    if not scopes:
        raise Invalid("a token needs at least one scope", "invalid_scope")
    async with rt.store.transaction() as tx:
        operator = await tx.operators.get_by_email(email)
        if operator is None:
            raise NotFound(f"no operator {shown(email)}", "operator_not_found")
        secret = new_token()
        token = await store_api_token(rt, tx, actor, operator.id, name, scopes, None, secret)
    return token, secret


async def do_reset_password(rt: Runtime, actor: Actor, email: str) -> str:
    """A new one-time password for an operator, from the shell; their logins end."""
    email = check_operator_email(email)
    password = new_password()
    async with rt.store.transaction() as tx:
        operator = await tx.operators.get_by_email(email)
        if operator is None:
            raise NotFound(f"no operator {shown(email)}", "operator_not_found")
        await tx.operators.set_password(operator.id, hash_password(password))
        ended = await tx.logins.delete_others(operator.id, None)
        do_signal_access_ended(rt, tx, CREDENTIAL_REVOKED, [login_key(i) for i in ended])
        await do_audit(
            rt, tx, actor, "operator.password", target_type="operator", target_id=operator.id
        )
    return password
