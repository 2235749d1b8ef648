"""The chatbox session (P13-P17): open it on every chatbox load, find it from its token.

A load with a valid token renews the session; without one, or with an unknown or expired one,
it creates a temporary session. Only a hash of the token is ever stored.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import NamedTuple

from causerie.actions import shield
from causerie.actions.limits import check_new_session_rate
from causerie.actions.reports import note_load, note_session_created
from causerie.domain.errors import Forbidden, NotFound, Unauthenticated, shown
from causerie.domain.events import Stream
from causerie.domain.models import (
    Conversation,
    Message,
    PageView,
    Session,
    SessionState,
    Website,
)
from causerie.domain.ports import Tx
from causerie.domain.sessions import is_expired, visit_changes
from causerie.domain.shield import is_crawler, network_key
from causerie.domain.websites import allows_origin
from causerie.runtime import Runtime
from causerie.tokens import hash_token, new_id, new_token

log = logging.getLogger("causerie.widget")

# Each refused (website, origin) pair is logged once per process, and at most this many are
# remembered: a page that reloads, or someone trying origins, cannot flood the log.
_REFUSALS_REMEMBERED = 1000
_refusals_logged: set[tuple[str, str]] = set()


def _origin_refused(website_id: str, origin: str | None) -> Forbidden:
    """The refusal, logged for the website's administrator, who otherwise sees no chatbox and
    no reason (the browser hides the answer from the page): the origin, never the address."""
    key = (website_id, origin or "")
    if key not in _refusals_logged:
        if len(_refusals_logged) >= _REFUSALS_REMEMBERED:
            _refusals_logged.clear()
        _refusals_logged.add(key)
        log.warning(
            "website %s: the chatbox was refused to a page on %r, which is not one of the "
            "website's origins; if that page is the website's, add the origin in its settings",
            website_id,
            origin,
        )
    return Forbidden(
        f"origin {shown(origin)} is not allowed for this website", "origin_not_allowed"
    )


LATEST_MESSAGES = 50


class OpenedSession(NamedTuple):  # immutable, built in one call (see PageView)
    token: str
    session: Session | None  # None: a crawler's load, which creates no session
    website: Website
    messages: list[Message]
    created: bool
    seq: int = 0  # the session stream's position when `messages` were read: resume from here
    conversation: Conversation | None = None  # read with `messages`: its read marks go with them


async def do_open_session(
    rt: Runtime,
    *,
    website_id: str,
    token: str | None,
    page: PageView,
    ip: str,
    origin: str | None,
    proof: tuple[str, str] | None = None,
    honeypot: bool = False,
) -> OpenedSession:
    """Renew the session of `token` on `website_id`, or create a temporary one.

    Reads first, outside any transaction: a renewal within a minute of the last one, from the
    same page and address, is that one read (the website with the session) and writes nothing.
    The writes (a new session, a touch) need not survive a power cut, so they skip the fsync
    (`durable=False`).

    The shield (P18) counts the load for the network, refuses it when a block rule matches
    (403 `blocked`), gives known crawlers the website without a session, and holds a new session
    to the automatic defence (`proof`: a solved challenge; `honeypot`: the field no chatbox fills)
    and to the rate limits.
    """
    now = rt.clock.now()
    token_hash = hash_token(token) if token else None
    renewed: OpenedSession | None = None
    async with rt.store.read() as tx:
        website, session = _allowed(
            await tx.websites.get_with_session(website_id, token_hash), website_id, origin
        )
        if session is not None and not is_expired(session, now, rt.settings.temporary_session_ttl):
            renewed = await _renewed(tx, token or "", session, website)

    shield.count(rt, ip, "loads", now=now)
    if renewed is not None:
        assert renewed.session is not None
        await shield.check_rules(
            rt, website_id, ip=ip, user_agent=page.user_agent, email=renewed.session.email, now=now
        )
        visit = visit_changes(renewed.session, page, ip, now)
        if visit:
            async with rt.store.transaction(durable=False) as tx:
                await tx.sessions.record_visit(
                    renewed.session.id,
                    last_access_at=visit.last_access_at or now,
                    ip=visit.ip,
                    page=visit.page,
                )
        note_load(rt, website_id, now)
        return renewed

    await shield.check_rules(rt, website_id, ip=ip, user_agent=page.user_agent)
    if is_crawler(page.user_agent):
        return OpenedSession("", None, website, [], created=False)
    await shield.check_new_session(rt, ip, proof=proof, honeypot=honeypot)
    await check_new_session_rate(rt, ip, website_id)
    new_token_ = new_token()
    async with rt.store.transaction(durable=False) as tx:
        if session is not None:  # expired: destroyed now rather than at the next purge (P15)
            await tx.sessions.delete(session.id)
        # Opened when inserted, after the checks and the wait for the transaction: its
        # visitor's first message is timed from about when they got it (the shield's pace).
        created = _new_session(website_id, page, ip, rt.clock.now())
        await tx.sessions.insert(created, hash_token(new_token_))
        await count_network_day(rt, tx, ip, now.date(), sessions=1, messages=0)
        note_session_created(rt, tx, website_id, now)
    shield.count(rt, ip, "sessions", now=now)
    note_load(rt, website_id, now)
    return OpenedSession(new_token_, created, website, [], created=True)


async def count_network_day(
    rt: Runtime, tx: Tx, ip: str, day: date, *, sessions: int, messages: int
) -> None:
    """The network's daily counts (P18), keyed by its keyed hash, never the address."""
    try:
        network = network_key(rt.settings.secret_key, ip)
    except ValueError:
        return
    await tx.stats.count_network(network, day, sessions=sessions, messages=messages)


def _allowed(
    found: tuple[Website | None, Session | None], website_id: str, origin: str | None
) -> tuple[Website, Session | None]:
    website, session = found
    if website is None:
        raise NotFound(f"no website {shown(website_id)}", "website_not_found")
    if not allows_origin(website, origin):
        raise _origin_refused(website_id, origin)
    return website, session


async def _renewed(tx: Tx, token: str, session: Session, website: Website) -> OpenedSession:
    conversation, messages = await _latest_messages(tx, session)
    # A temporary session has no message events: its chatbox simply replays from 0.
    seq = 0
    if session.state is SessionState.PERMANENT:
        seq = await tx.events.last_seq(Stream.of_session(session.id).key)
    return OpenedSession(token, session, website, messages, False, seq, conversation)


def _new_session(website_id: str, page: PageView, ip: str, now: datetime) -> Session:
    return Session(
        id=new_id(),
        website_id=website_id,
        state=SessionState.TEMPORARY,
        created_at=now,
        last_access_at=now,
        ip=ip,
        ip_seen_at=now,
        user_agent=page.user_agent,
        locale=page.locale,
        timezone=page.timezone,
        page_url=page.url,
        page_title=page.title,
        page_referrer=page.referrer,
    )


async def _latest_messages(tx: Tx, session: Session) -> tuple[Conversation | None, list[Message]]:
    if session.state is SessionState.TEMPORARY:
        return None, []  # a temporary session has no conversation yet, by definition (P15)
    conversation = await tx.conversations.get_by_session(session.id)
    if conversation is None:
        return None, []
    messages = await tx.messages.list_page(
        conversation.id, limit=LATEST_MESSAGES, include_notes=False
    )
    return conversation, messages


async def access_visitor_session(rt: Runtime, tx: Tx, token: str, origin: str | None) -> Session:
    """The live session a visitor's bearer token designates, called from one of its origins."""
    session = await tx.sessions.get_by_token(hash_token(token))
    if session is None or is_expired(session, rt.clock.now(), rt.settings.temporary_session_ttl):
        raise Unauthenticated("unknown or expired session token", "invalid_session")
    if origin is not None:
        website = await tx.websites.get(session.website_id)
        if website is None or not allows_origin(website, origin):
            raise _origin_refused(session.website_id, origin)
    return session


async def access_visitor_stream(rt: Runtime, tx: Tx, token: str, origin: str | None) -> Session:
    """The session a visitor's socket follows: as `access_visitor_session`, and refused (403
    `blocked`) while a block rule or its network's block holds the visitor, as a load of the
    chatbox and a message are (the socket heard the agents' replies). A person's rights (export,
    erasure) stay open over HTTP (P9)."""
    session = await access_visitor_session(rt, tx, token, origin)
    await shield.check_visitor(rt, session, tx)
    return session


async def get_visitor_conversation_id(rt: Runtime, session_id: str) -> str | None:
    async with rt.store.read() as tx:
        conversation = await tx.conversations.get_by_session(session_id)
    return conversation.id if conversation else None
