"""When an agent's access ends (or a visitor's session): the keys a revocation names, and what
the socket is told.

See docs/realtime.md "When access ends". An action that ends a credential or a membership
publishes, after its commit, one `access.ended` event on `ACCESS_CHANNEL` naming keys; every
node's hub hears it and ends the agent sockets that were let in under one of those keys.
"""

from __future__ import annotations

from causerie.domain.errors import AccessEnded
from causerie.domain.models import Actor

ACCESS_CHANNEL = "access"  # heard by every node, whatever its sockets follow

CREDENTIAL_REVOKED = "credential_revoked"
CREDENTIAL_EXPIRED = "credential_expired"
ACCESS_REVOKED = "access_revoked"

_MESSAGES = {
    CREDENTIAL_REVOKED: "this credential was revoked (token revoked, or logged out)",
    CREDENTIAL_EXPIRED: "this login has expired; log in again",
    ACCESS_REVOKED: "you no longer have access to this website",
}


def ended(code: str) -> AccessEnded:
    """The error an ended socket gets, for one of the three codes."""
    return AccessEnded(_MESSAGES.get(code, _MESSAGES[ACCESS_REVOKED]), code)


def login_key(login_id: str) -> str:
    return f"login:{login_id}"


def token_key(token_id: str) -> str:
    return f"token:{token_id}"


def member_key(website_id: str, operator_id: str) -> str:
    return f"member:{website_id}:{operator_id}"


def website_key(website_id: str) -> str:
    return f"website:{website_id}"


def session_key(session_id: str) -> str:
    """A visitor socket's key: its session was deleted (P20, P9), the socket ends."""
    return f"session:{session_id}"


SESSION_GONE = "invalid_session"  # what a visitor socket is told when its session is deleted


def keys_of(actor: Actor, website_id: str) -> tuple[str, ...]:
    """Every key whose revocation ends an agent socket of `actor` on `website_id`."""
    keys = [website_key(website_id)]
    if actor.operator_id is not None:
        keys.append(member_key(website_id, actor.operator_id))
    if actor.login_id is not None:
        keys.append(login_key(actor.login_id))
    if actor.token_id is not None:
        keys.append(token_key(actor.token_id))
    return tuple(keys)
