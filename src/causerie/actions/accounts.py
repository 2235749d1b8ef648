"""Operators' accounts: login and logout, one-time links (first owner, invitations), passwords.

Passwords are checked with argon2 in a worker thread (a check costs tens of milliseconds of CPU
that would otherwise stall every socket of the node). An unknown email costs the same check as a
wrong password, against a throwaway hash, so timing tells nothing about which addresses exist.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache

from causerie.actions.audit import do_audit
from causerie.actions.events import do_signal_access_ended
from causerie.actions.limits import check_login_rate
from causerie.domain.access import CREDENTIAL_REVOKED, login_key
from causerie.domain.accounts import (
    FAILURE_WINDOW,
    FAILURES_PER_EMAIL,
    FAILURES_PER_NETWORK,
    LINK_TTL,
    LOGIN_EXTEND_EVERY,
    check_name,
    check_operator_email,
    check_password,
)
from causerie.domain.errors import (
    Conflict,
    Forbidden,
    NotFound,
    RateLimited,
    Unauthenticated,
    shown,
    try_again_in,
)
from causerie.domain.models import (
    AccountLink,
    Actor,
    LinkPurpose,
    Login,
    Operator,
    Role,
    Scope,
    Website,
)
from causerie.domain.ports import Tx
from causerie.domain.shield import network_key
from causerie.domain.windows import window_end
from causerie.runtime import Runtime
from causerie.tokens import derive, hash_password, hash_token, new_id, new_token, verify_password

LOGIN_COOKIE = "causerie_login"


@cache
def _throwaway_hash() -> str:
    return hash_password(new_token())


async def _verify(password: str, stored_hash: str | None) -> bool:
    matches = await asyncio.to_thread(verify_password, password, stored_hash or _throwaway_hash())
    return matches and stored_hash is not None


def csrf_token(rt: Runtime, login_token: str) -> str:
    return derive(rt.settings.secret_key, "csrf", login_token)


@dataclass(frozen=True)
class LoggedIn:
    operator: Operator
    token: str  # for the cookie; only its hash is stored
    login: Login


def _counter_keys(rt: Runtime, email: str, ip: str) -> tuple[str, str]:
    """Counter names that hold no address: keyed hashes of the email and of the client's network
    (a plain hash of a /24 is undone by trying the 2^24 of them)."""
    digest = derive(rt.settings.secret_key, "login:email", email)[:32]
    network = network_key(rt.settings.secret_key, ip)
    return f"login:email:{digest}", f"login:net:{network}"


async def _reserve_attempt(rt: Runtime, keys: tuple[str, str]) -> datetime:
    """Count a password attempt as failed before checking it, and refuse it over the limits.

    Counting first is what holds the limits against concurrent attempts: each takes its place
    atomically, so no more than the limit are ever checked in a window, however many arrive at
    once. A success gives its place back (`_release_attempt`). Returns the time it counted at.
    """
    now = rt.clock.now()
    by_email = await rt.counters.hit(keys[0], now, FAILURE_WINDOW)
    by_network = await rt.counters.hit(keys[1], now, FAILURE_WINDOW)
    if by_email > FAILURES_PER_EMAIL or by_network > FAILURES_PER_NETWORK:
        wait = max(1, round(window_end(now, FAILURE_WINDOW)))
        raise RateLimited(f"too many failed logins; {try_again_in(wait)}", wait)
    return now


async def _release_attempt(rt: Runtime, keys: tuple[str, str], at: datetime) -> None:
    """A right password: the email's failures are forgotten, the network's attempt given back."""
    await rt.counters.reset(keys[0])
    await rt.counters.release(keys[1], at, FAILURE_WINDOW)


async def _check_password_attempt(
    rt: Runtime, email: str, stored_hash: str | None, password: str, client_ip: str
) -> None:
    """A password attempt under the login limits; an unknown account (`stored_hash` None)
    costs the same argon2 verification as a wrong password."""
    await check_login_rate(rt, client_ip)
    keys = _counter_keys(rt, email, client_ip)
    at = await _reserve_attempt(rt, keys)
    if not await _verify(password, stored_hash):
        raise Unauthenticated("wrong email or password", "invalid_credentials")
    await _release_attempt(rt, keys, at)


async def _start_login(rt: Runtime, tx: Tx, operator: Operator) -> LoggedIn:
    now = rt.clock.now()
    token = new_token()
    login = Login(
        id=new_id(),
        operator_id=operator.id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + rt.settings.login_ttl,
    )
    await tx.logins.insert(login, hash_token(token))
    await tx.operators.record_login(operator.id, now)
    actor = Actor("operator", operator.id, login_id=login.id)
    await do_audit(rt, tx, actor, "operator.login", target_type="operator", target_id=operator.id)
    return LoggedIn(operator, token, login)


async def do_login(rt: Runtime, email: str, password: str, client_ip: str) -> LoggedIn:
    address = email.strip().lower()
    async with rt.store.read() as tx:
        operator = await tx.operators.get_by_email(address)
        stored = await tx.operators.get_password_hash(operator.id) if operator else None
    await _check_password_attempt(rt, address, stored, password, client_ip)
    assert operator is not None  # a password matched: the account exists
    async with rt.store.transaction() as tx:
        return await _start_login(rt, tx, operator)


async def access_login(rt: Runtime, token: str) -> Login:
    """The login behind a login cookie, pushed forward while it is used (the login returned
    ends at its new `expires_at`)."""
    now = rt.clock.now()
    async with rt.store.read() as tx:
        login = await tx.logins.get_by_token(hash_token(token))
    if login is None or login.expires_at <= now:
        raise Unauthenticated("not logged in, or the login has expired", "invalid_login")
    if now - login.last_seen_at >= LOGIN_EXTEND_EVERY:
        expires_at = now + rt.settings.login_ttl
        async with rt.store.transaction(durable=False) as tx:
            await tx.logins.extend(login.id, now, expires_at)
        login = replace(login, last_seen_at=now, expires_at=expires_at)
    return login


async def access_actor_by_login(rt: Runtime, token: str) -> Actor:
    """The operator behind a login cookie; the login is pushed forward while it is used."""
    login = await access_login(rt, token)
    return Actor("operator", login.operator_id, login_id=login.id)


async def do_logout(rt: Runtime, actor: Actor) -> None:
    """End this login; once committed, its sockets close on every node (`access.ended`)."""
    if actor.login_id is None:
        raise Forbidden("only a login can log out; revoke a token instead", "login_required")
    async with rt.store.transaction() as tx:
        await tx.logins.delete(actor.login_id)
        do_signal_access_ended(rt, tx, CREDENTIAL_REVOKED, [login_key(actor.login_id)])


async def do_change_password(rt: Runtime, actor: Actor, current: str, new: str) -> None:
    """Change the password and end every other login of the operator (and their sockets)."""
    if actor.login_id is None or actor.operator_id is None:
        raise Forbidden("changing a password needs the inbox login", "login_required")
    check_password(new)
    async with rt.store.read() as tx:
        stored = await tx.operators.get_password_hash(actor.operator_id)
    if not await _verify(current, stored):
        raise Unauthenticated("the current password is wrong", "invalid_credentials")
    new_hash = await asyncio.to_thread(hash_password, new)
    async with rt.store.transaction() as tx:
        await tx.operators.set_password(actor.operator_id, new_hash)
        ended = await tx.logins.delete_others(actor.operator_id, actor.login_id)
        do_signal_access_ended(rt, tx, CREDENTIAL_REVOKED, [login_key(i) for i in ended])
        await do_audit(
            rt, tx, actor, "operator.password", target_type="operator", target_id=actor.operator_id
        )


async def do_rename(rt: Runtime, actor: Actor, name: str) -> Operator:
    if actor.operator_id is None:
        raise Unauthenticated("authentication required")
    if Scope.WRITE not in actor.scopes:
        raise Forbidden("this token lacks the 'write' scope", "insufficient_scope")
    name = check_name(name)
    async with rt.store.transaction() as tx:
        await tx.operators.set_name(actor.operator_id, name)
        operator = await tx.operators.get(actor.operator_id)
    assert operator is not None
    return operator


async def get_language(rt: Runtime, actor: Actor) -> str | None:
    """The caller's chosen language for the inbox; None: their browser's."""
    if actor.operator_id is None:
        raise Unauthenticated("authentication required")
    async with rt.store.read() as tx:
        return await tx.operators.get_language(actor.operator_id)


async def do_set_language(rt: Runtime, actor: Actor, language: str | None) -> str | None:
    """Set the caller's language (checked by `check_language` first)."""
    if actor.operator_id is None:
        raise Unauthenticated("authentication required")
    if Scope.WRITE not in actor.scopes:
        raise Forbidden("this token lacks the 'write' scope", "insufficient_scope")
    async with rt.store.transaction() as tx:
        await tx.operators.set_language(actor.operator_id, language)
    return language


async def get_me(rt: Runtime, actor: Actor) -> tuple[Operator, list[tuple[Website, Role]]]:
    if actor.operator_id is None:
        raise Unauthenticated("authentication required")
    async with rt.store.read() as tx:
        operator = await tx.operators.get(actor.operator_id)
        memberships = await tx.members.list_for_operator(actor.operator_id)
    if operator is None:
        raise Unauthenticated("this operator no longer exists", "invalid_login")
    if actor.website_ids is not None:
        memberships = [(w, r) for w, r in memberships if w.id in actor.website_ids]
    return operator, memberships


# one-time links


def link_url(rt: Runtime, purpose: LinkPurpose, token: str) -> str:
    """Where a link leads: the inbox, with the token in the fragment (never sent to a server)."""
    return f"{rt.settings.public_url}/app/#/{purpose.value}?token={token}"


async def create_link(
    rt: Runtime,
    tx: Tx,
    purpose: LinkPurpose,
    operator_id: str | None,
    *,
    website_id: str | None = None,
    role: Role | None = None,
) -> tuple[AccountLink, str]:
    now = rt.clock.now()
    token = new_token()
    link = AccountLink(
        id=new_id(),
        purpose=purpose,
        operator_id=operator_id,
        created_at=now,
        expires_at=now + LINK_TTL[purpose],
        website_id=website_id,
        role=role,
    )
    await tx.links.insert(link, hash_token(token))
    return link, token


async def do_create_setup_link(rt: Runtime) -> str | None:
    """On a fresh install (no operator yet), a new link to create the first owner, replacing any
    earlier one; None once someone has set up the server."""
    async with rt.store.transaction() as tx:
        if await tx.operators.count() > 0:
            return None
        await tx.links.delete_all(LinkPurpose.SETUP.value)
        _, token = await create_link(rt, tx, LinkPurpose.SETUP, None)
    return link_url(rt, LinkPurpose.SETUP, token)


@dataclass(frozen=True)
class LinkInfo:
    link: AccountLink
    email: str | None
    websites: list[tuple[Website, Role]]
    has_account: bool  # the person has a password: they log in to accept, and it stays


async def _valid_link(rt: Runtime, tx: Tx, token: str) -> AccountLink:
    link = await tx.links.get_by_token(hash_token(token))
    if link is None or link.expires_at <= rt.clock.now():
        raise NotFound("this link is unknown, used or expired", "invalid_link")
    if link.purpose is LinkPurpose.SETUP and await tx.operators.count() > 0:
        raise NotFound("this server is already set up; log in instead", "invalid_link")
    if link.purpose is LinkPurpose.INVITE and (
        link.operator_id is None or link.website_id is None or link.role is None
    ):
        raise NotFound("this link is unknown, used or expired", "invalid_link")
    return link


async def get_link(rt: Runtime, token: str) -> LinkInfo:
    async with rt.store.read() as tx:
        link = await _valid_link(rt, tx, token)
        if link.purpose is LinkPurpose.SETUP:
            websites = [(w, Role.OWNER) for w in await tx.websites.list_all()]
            return LinkInfo(link, None, websites, has_account=False)
        assert link.operator_id and link.website_id and link.role
        operator = await tx.operators.get(link.operator_id)
        website = await tx.websites.get(link.website_id)
        assert operator is not None and website is not None  # both cascade to the link
        has_account = await tx.operators.get_password_hash(operator.id) is not None
        return LinkInfo(link, operator.email, [(website, link.role)], has_account)


async def do_accept_link(
    rt: Runtime, token: str, *, name: str, password: str, email: str | None, client_ip: str
) -> LoggedIn:
    """Use a one-time link, and log in.

    `setup` creates the first owner (owner of every website). `invite` grants its own website
    and role, and nothing else: a person without an account yet chooses their name and password
    with it; a person who has one proves it with their password (under the login limits), which
    the link never sets nor changes (docs/api.md "Invitations").
    """
    async with rt.store.read() as tx:
        link = await _valid_link(rt, tx, token)
        operator = await tx.operators.get(link.operator_id) if link.operator_id else None
        stored = await tx.operators.get_password_hash(operator.id) if operator else None
    new_hash = None
    if operator is not None and stored is not None:
        await _check_password_attempt(rt, operator.email, stored, password, client_ip)
    else:
        name = check_name(name)
        check_password(password)
        new_hash = await asyncio.to_thread(hash_password, password)
    async with rt.store.transaction() as tx:
        link = await _valid_link(rt, tx, token)
        if not await tx.links.delete(link.id):  # a concurrent use won
            raise NotFound("this link is unknown, used or expired", "invalid_link")
        if link.purpose is LinkPurpose.SETUP:
            assert new_hash is not None
            operator = await _create_first_owner(rt, tx, email, name, new_hash)
        else:
            assert operator is not None
            if new_hash is not None:
                operator = await _activate(tx, operator, name, new_hash)
            await _join(rt, tx, link, operator)
        return await _start_login(rt, tx, operator)


async def _activate(tx: Tx, operator: Operator, name: str, password_hash: str) -> Operator:
    """The first password of an invited person, unless another of their links set one first."""
    if not await tx.operators.set_first_password(operator.id, password_hash):
        raise Conflict(
            "this account got its password meanwhile: open the link again to log in and join",
            "account_active",
        )
    await tx.operators.set_name(operator.id, name)
    return Operator(operator.id, operator.email, name, operator.created_at)


async def _join(rt: Runtime, tx: Tx, link: AccountLink, operator: Operator) -> None:
    assert link.website_id is not None and link.role is not None
    if await tx.members.get_role(operator.id, link.website_id) is None:
        await tx.members.set_role(link.website_id, operator.id, link.role, rt.clock.now())
    await do_audit(
        rt,
        tx,
        Actor("operator", operator.id),
        "operator.join",
        target_type="operator",
        target_id=operator.id,
        website_id=link.website_id,
        details={"role": link.role.value},
    )


async def _create_first_owner(
    rt: Runtime, tx: Tx, email: str | None, name: str, password_hash: str
) -> Operator:
    address = check_operator_email(email or "")
    if await tx.operators.get_by_email(address) is not None:
        raise Conflict(f"{shown(address)} already has an account", "email_taken")
    now = rt.clock.now()
    operator = Operator(id=new_id(), email=address, name=name, created_at=now)
    await tx.operators.insert(operator, None)
    await tx.operators.set_password(operator.id, password_hash)
    for website in await tx.websites.list_all():
        await tx.members.set_role(website.id, operator.id, Role.OWNER, now)
    await tx.links.delete_all(LinkPurpose.SETUP.value)
    await do_audit(
        rt, tx, Actor.system(), "operator.create", target_type="operator", target_id=operator.id
    )
    return operator
