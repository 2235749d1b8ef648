"""Who may do what: operators act on the websites they belong to, within their role."""

from __future__ import annotations

from causerie.domain.errors import Forbidden, NotFound, Unauthenticated
from causerie.domain.models import Actor, Role, Scope
from causerie.domain.ports import Tx
from causerie.runtime import Runtime
from causerie.tokens import hash_token


async def access_actor_by_api_token(rt: Runtime, token: str) -> Actor:
    async with rt.store.read() as tx:
        api_token = await tx.get_api_token(hash_token(token))
    if api_token is None:
        raise Unauthenticated("unknown or revoked API token", "invalid_token")
    return Actor("operator", api_token.operator_id, api_token.scopes)


async def check_role(
    tx: Tx, actor: Actor, website_id: str, allowed: frozenset[Role], scope: Scope
) -> None:
    """Raise unless the actor may act on `website_id` with one of `allowed` roles.

    An operator who is not a member learns nothing: the object is reported as not found.
    """
    if actor.kind in ("cli", "system"):
        return
    if actor.operator_id is None:
        raise Unauthenticated("authentication required")
    role = await tx.get_role(actor.operator_id, website_id)
    if role is None:
        raise NotFound("no such object")
    if role not in allowed:
        raise Forbidden(f"this needs the role {' or '.join(sorted(allowed))}")
    if scope not in actor.scopes:
        raise Forbidden(f"this token lacks the {scope.value!r} scope", "insufficient_scope")


ANY_ROLE = frozenset(Role)
MANAGERS = frozenset({Role.OWNER, Role.ADMIN})
