"""Presence and typing: ephemeral signals, shared across nodes, never stored.

A website is "online" for its visitors while one of its agents has a socket open and has not set
themselves away. Agents see the visitors connected now, with their current page.
"""

from __future__ import annotations

import logging
from typing import Any

from causerie.actions.assignment import do_agent_presence
from causerie.actions.events import do_signal
from causerie.domain.errors import Unavailable
from causerie.domain.events import EventType, Stream
from causerie.domain.hours import availability
from causerie.domain.models import Session, Website
from causerie.domain.ports import operator_of_connection
from causerie.domain.wire import iso
from causerie.runtime import Runtime

log = logging.getLogger("causerie.realtime")


def presence_channel(website_id: str) -> str:
    """Where visitors' sockets hear of their website's availability."""
    return f"presence:{website_id}"


async def do_set_agent_status(
    rt: Runtime, website_id: str, connection_id: str, status: str | None
) -> None:
    """`online`, `away`, or None when the socket closes; tells visitors if availability changed,
    and has the website's teams assign what waits or hand on what the agent leaves
    (actions/assignment.py).

    While presence is unreachable the change is kept by the node and written at its next
    refresh, after which `do_announce_availability` tells visitors.
    """
    try:
        before = await rt.presence.website_online(website_id)
        await rt.presence.set_agent(website_id, connection_id, status)
        after = await rt.presence.website_online(website_id)
    except Unavailable as exc:
        log.warning("presence unavailable (%s): agent status not shared yet", exc)
        return
    if after != before:
        do_signal(rt, presence_channel(website_id), EventType.PRESENCE, {"online": after})
    # `connection_id` names its operator (ports.agent_connection_id).
    await do_agent_presence(rt, website_id, operator_of_connection(connection_id), status)


async def do_announce_availability(
    rt: Runtime, website_ids: list[str], announced: dict[str, bool]
) -> None:
    """Tell visitors of each website whose availability differs from what was last announced.

    Run by each node after refreshing its presence entries, for the websites its agents follow:
    it repairs what an outage of the presence store kept from being said.
    """
    for website_id in website_ids:
        try:
            online = await rt.presence.website_online(website_id)
        except Unavailable:
            return
        if announced.get(website_id) != online:
            announced[website_id] = online
            do_signal(rt, presence_channel(website_id), EventType.PRESENCE, {"online": online})
    for gone in set(announced) - set(website_ids):
        del announced[gone]


async def get_availability(
    rt: Runtime, website_id: str, website: Website | None = None
) -> dict[str, Any]:
    """Whether an agent is online (reported offline while presence cannot be read), and, when
    the website has business hours, `hours`: whether it is within them, when it is back, and
    its away message (domain/hours.py). An agent online makes the chatbox available whatever
    the schedule says."""
    try:
        online = await rt.presence.website_online(website_id)
    except Unavailable:
        online = False
    if website is None:
        async with rt.store.read() as tx:
            website = await tx.websites.get(website_id)
    # The clock read only for a website with business hours (most have none).
    schedule = website.settings.get("business_hours") if website else None
    hours = availability(schedule, rt.clock.now()) if schedule else None
    return {"online": online} if hours is None else {"online": online, "hours": hours}


def _visitor_info(session: Session, since: str | None) -> dict[str, Any]:
    return {
        "session_id": session.id,
        "page_url": session.page_url,
        "page_title": session.page_title,
        "locale": session.locale,
        "since": since,
    }


async def do_visitor_connected(rt: Runtime, session: Session, connection_id: str) -> None:
    info = _visitor_info(session, iso(rt.clock.now()))
    try:
        await rt.presence.set_visitor(session.website_id, connection_id, info)
    except Unavailable as exc:
        log.warning("presence unavailable (%s): visitor not listed yet", exc)
    do_signal(
        rt,
        Stream.of_website(session.website_id).key,
        EventType.PRESENCE,
        {"visitor": info, "online": True},
    )


async def do_visitor_disconnected(rt: Runtime, session: Session, connection_id: str) -> None:
    try:
        await rt.presence.set_visitor(session.website_id, connection_id, None)
        still_here = any(
            v.get("session_id") == session.id
            for v in await rt.presence.visitors_online(session.website_id)
        )
    except Unavailable as exc:
        log.warning("presence unavailable (%s): visitor left unannounced", exc)
        return
    if not still_here:
        do_signal(
            rt,
            Stream.of_website(session.website_id).key,
            EventType.PRESENCE,
            {"visitor": {"session_id": session.id}, "online": False},
        )


async def get_visitors_online(rt: Runtime, website_id: str) -> list[dict[str, Any]]:
    """One entry per session (a visitor with several tabs appears once, since their first)."""
    by_session: dict[str, dict[str, Any]] = {}
    try:
        online = await rt.presence.visitors_online(website_id)
    except Unavailable:
        return []
    for info in online:
        known = by_session.get(info["session_id"])
        if known is None or (info.get("since") or "") < (known.get("since") or ""):
            by_session[info["session_id"]] = info
    return sorted(by_session.values(), key=lambda v: v.get("since") or "")


def do_typing(
    rt: Runtime,
    *,
    website_id: str,
    session_id: str,
    conversation_id: str | None,
    on: bool,
    operator: dict[str, str] | None = None,
) -> None:
    """Typing goes to the website's agents, and an operator's also to the visitor."""
    payload: dict[str, Any] = {
        "conversation_id": conversation_id,
        "session_id": session_id,
        "from": "operator" if operator else "visitor",
        "on": on,
    }
    if operator:
        payload["operator"] = operator
        visitor_payload = {k: v for k, v in payload.items() if k != "session_id"}
        do_signal(rt, Stream.of_session(session_id).key, EventType.TYPING, visitor_payload)
    do_signal(rt, Stream.of_website(website_id).key, EventType.TYPING, payload)
