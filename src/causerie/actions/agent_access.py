"""An agent socket's access: let in once at `auth`, checked again whenever it may have ended.

See docs/realtime.md "When access ends". The socket keeps what it was let in with (the
credential's hash, never the secret; the login's end), so that checking it again is one read.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from causerie.actions.access import ANY_ROLE, access_actor_by_api_token, check_role
from causerie.actions.accounts import access_login
from causerie.domain.access import (
    ACCESS_REVOKED,
    CREDENTIAL_EXPIRED,
    CREDENTIAL_REVOKED,
    ended,
    keys_of,
)
from causerie.domain.errors import Forbidden, Invalid, NotFound, Unauthenticated, shown
from causerie.domain.models import Actor, Operator, Scope
from causerie.domain.ports import Tx
from causerie.runtime import Runtime
from causerie.tokens import hash_token


@dataclass(frozen=True)
class AgentAccess:
    """Who an agent socket acts as, on which website, and under which credential."""

    actor: Actor
    website_id: str
    operator: Operator
    credential_hash: str  # the API token's or the login's, to read it again
    expires_at: datetime | None  # when the login ends unless used meanwhile; None for a token

    @property
    def keys(self) -> tuple[str, ...]:
        """The revocation keys that end this socket (domain/access.py)."""
        return keys_of(self.actor, self.website_id)


async def access_agent(
    rt: Runtime, website_id: str | None, *, api_token: str | None, login_token: str | None
) -> AgentAccess:
    """Let an agent socket in with an API token, or else a login cookie: the operator must belong
    to the website (any role); otherwise `website_not_found`, as for any object of another.

    Without `website_id` (SPEC.md's `auth` frame names none), the socket follows the one website
    the credential reaches; when it reaches several, the frame must say which (`invalid_frame`).
    """
    expires_at = None
    if api_token is not None:
        actor = await access_actor_by_api_token(rt, api_token)
        credential = api_token
    elif login_token is not None:
        login = await access_login(rt, login_token)
        actor = Actor("operator", login.operator_id, login_id=login.id)
        credential, expires_at = login_token, login.expires_at
    else:
        raise Unauthenticated("token: an API token, or log in to the inbox")
    async with rt.store.read() as tx:
        if website_id is None:
            website_id = await _only_website(tx, actor)
        await _check_member(tx, actor, website_id)
        operator = await tx.operators.get(actor.operator_id or "")
    assert operator is not None
    return AgentAccess(actor, website_id, operator, hash_token(credential), expires_at)


async def _only_website(tx: Tx, actor: Actor) -> str:
    """The one website the actor may follow, for an `auth` frame that names none."""
    reachable = [
        website.id
        for website, _ in await tx.members.list_for_operator(actor.operator_id or "")
        if actor.website_ids is None or website.id in actor.website_ids
    ]
    if len(reachable) == 1:
        return reachable[0]
    if not reachable:
        raise NotFound("website_id: this credential reaches no website", "website_not_found")
    raise Invalid(
        f"website_id: this credential reaches {len(reachable)} websites; "
        "name the one this socket follows",
        "invalid_frame",
    )


async def check_agent_access(rt: Runtime, access: AgentAccess) -> AgentAccess:
    """`access` again, with the login's current end; raises `AccessEnded` when the credential
    was revoked or expired, or the operator may no longer see the website. One read."""
    now = rt.clock.now()
    expires_at = None
    async with rt.store.read() as tx:
        if access.actor.token_id is not None:
            if await tx.api_tokens.get_by_token(access.credential_hash) is None:
                raise ended(CREDENTIAL_REVOKED)
        else:
            login = await tx.logins.get_by_token(access.credential_hash)
            if login is None:
                raise ended(CREDENTIAL_REVOKED)
            if login.expires_at <= now:
                raise ended(CREDENTIAL_EXPIRED)
            expires_at = login.expires_at
        try:
            await _check_member(tx, access.actor, access.website_id)
        except (NotFound, Forbidden):
            raise ended(ACCESS_REVOKED) from None
    return replace(access, expires_at=expires_at)


async def _check_member(tx: Tx, actor: Actor, website_id: str) -> None:
    missing = NotFound(f"no website {shown(website_id)}", "website_not_found")
    await check_role(tx, actor, website_id, ANY_ROLE, Scope.READ, missing=missing)
