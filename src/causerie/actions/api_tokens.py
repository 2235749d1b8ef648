"""API tokens made in the inbox: listed, created (the secret shown once), revoked.

Only the inbox login manages tokens, so a leaked token cannot mint others (docs/api.md).
"""

from __future__ import annotations

from causerie.actions.access import require_login
from causerie.actions.audit import do_audit
from causerie.actions.events import do_signal_access_ended
from causerie.domain.access import CREDENTIAL_REVOKED, token_key
from causerie.domain.errors import Invalid, NotFound, shown
from causerie.domain.models import Actor, ApiToken, Scope
from causerie.domain.ports import Tx
from causerie.runtime import Runtime
from causerie.tokens import hash_token, new_id, new_token


async def get_api_tokens(rt: Runtime, actor: Actor) -> list[ApiToken]:
    operator_id = require_login(actor, "listing API tokens")
    async with rt.store.read() as tx:
        return await tx.api_tokens.list_for_operator(operator_id)


async def do_issue_api_token(
    rt: Runtime,
    actor: Actor,
    *,
    name: str,
    scopes: frozenset[Scope],
    website_ids: list[str] | None,
) -> tuple[ApiToken, str]:
    operator_id = require_login(actor, "creating API tokens")
    name = " ".join(name.split())
    if not 1 <= len(name) <= 200:
        raise Invalid("name: 1 to 200 characters", "invalid_name")
    if not scopes:
        raise Invalid("scopes: at least one of read, write", "invalid_scope")
    secret = new_token()
    async with rt.store.transaction() as tx:
        limited = None
        if website_ids is not None:
            if not website_ids:
                raise Invalid(
                    "website_ids: at least one website, or leave it out", "invalid_request"
                )
            mine = {w.id for w, _ in await tx.members.list_for_operator(operator_id)}
            for website_id in website_ids:
                if website_id not in mine:
                    raise NotFound(f"no website {shown(website_id)}", "website_not_found")
            limited = frozenset(website_ids)
        token = await store_api_token(rt, tx, actor, operator_id, name, scopes, limited, secret)
    return token, secret


async def store_api_token(
    rt: Runtime,
    tx: Tx,
    actor: Actor,
    operator_id: str,
    name: str,
    scopes: frozenset[Scope],
    website_ids: frozenset[str] | None,
    secret: str,
) -> ApiToken:
    """Keep the token's hash (never the secret) and audit its creation."""
    token = ApiToken(
        id=new_id(),
        operator_id=operator_id,
        name=name,
        scopes=scopes,
        created_at=rt.clock.now(),
        website_ids=website_ids,
    )
    await tx.api_tokens.insert(token, hash_token(secret))
    await do_audit(
        rt,
        tx,
        actor,
        "token.create",
        target_type="api_token",
        target_id=token.id,
        details={"scopes": ",".join(sorted(scopes))},
    )
    return token


async def do_revoke_api_token(rt: Runtime, actor: Actor, token_id: str) -> None:
    """Revoke the token; once committed, its sockets close on every node (`access.ended`), and
    the browsers it subscribed to pushes receive none."""
    operator_id = require_login(actor, "revoking API tokens")
    async with rt.store.transaction() as tx:
        if not await tx.api_tokens.revoke(operator_id, token_id, rt.clock.now()):
            raise NotFound(f"no token {shown(token_id)}", "token_not_found")
        await tx.push.delete_for_token(token_id)
        await do_audit(rt, tx, actor, "token.revoke", target_type="api_token", target_id=token_id)
        do_signal_access_ended(rt, tx, CREDENTIAL_REVOKED, [token_key(token_id)])
