"""Who may do what: operators act on the websites they belong to, within their role.

See docs/api.md "Roles". An object of a website the operator does not belong to (or that their
token does not cover) is reported as not found: its existence is not theirs to learn.
"""

from __future__ import annotations

from datetime import timedelta

from causerie.domain.errors import Forbidden, NotFound, Unauthenticated, shown
from causerie.domain.models import Actor, Role, Scope
from causerie.domain.ports import Tx
from causerie.runtime import Runtime
from causerie.tokens import hash_token

TOKEN_TOUCH_EVERY = timedelta(minutes=1)  # `last_used_at` of a token is this precise


async def access_actor_by_api_token(rt: Runtime, token: str) -> Actor:
    async with rt.store.read() as tx:
        api_token = await tx.api_tokens.get_by_token(hash_token(token))
    if api_token is None:
        raise Unauthenticated("unknown or revoked API token", "invalid_token")
    now = rt.clock.now()
    if api_token.last_used_at is None or now - api_token.last_used_at >= TOKEN_TOUCH_EVERY:
        async with rt.store.transaction(durable=False) as tx:
            await tx.api_tokens.touch(api_token.id, now)
    return Actor(
        "operator",
        api_token.operator_id,
        api_token.scopes,
        api_token.website_ids,
        token_id=api_token.id,
    )


async def check_role(
    tx: Tx,
    actor: Actor,
    website_id: str,
    allowed: frozenset[Role],
    scope: Scope,
    *,
    missing: NotFound | None = None,
) -> Role:
    """The actor's role on `website_id`; raises unless it is one of `allowed` and the actor's
    credential has `scope`. The shell and the server itself act as owners.

    `missing` is the error the caller gives for an object that does not exist: an outsider gets
    exactly that, so they cannot tell "not yours" from "not there".
    """
    if actor.kind in ("cli", "system"):
        return Role.OWNER
    if actor.operator_id is None:
        raise Unauthenticated("authentication required")
    hidden = missing or NotFound("no such object")
    if actor.website_ids is not None and website_id not in actor.website_ids:
        raise hidden
    role = await tx.members.get_role(actor.operator_id, website_id)
    if role is None:
        raise hidden
    if scope not in actor.scopes:
        raise Forbidden(f"this token lacks the {shown(scope.value)} scope", "insufficient_scope")
    if role not in allowed:
        raise Forbidden(f"this needs the role {' or '.join(sorted(allowed))}")
    return role


def require_login(actor: Actor, what: str) -> str:
    """The operator id of an actor using the inbox login; tokens may not do `what`."""
    if actor.login_id is None or actor.operator_id is None:
        raise Forbidden(f"{what} needs the inbox login, not an API token", "login_required")
    return actor.operator_id


ANY_ROLE = frozenset(Role)
MANAGERS = frozenset({Role.OWNER, Role.ADMIN})
OWNERS = frozenset({Role.OWNER})


def managers_of(role: Role) -> frozenset[Role]:
    """The roles that may grant, change or take `role`: the owner role is an owner's to give or
    take; owners and admins manage the others (docs/api.md "Roles")."""
    return OWNERS if role is Role.OWNER else MANAGERS


def check_manages(mine: Role, *roles: Role, refusal: str) -> None:
    """Raises `refusal` unless an operator of role `mine` may grant, change or take each of
    `roles` (`managers_of`)."""
    if any(mine not in managers_of(role) for role in roles):
        raise Forbidden(refusal)
