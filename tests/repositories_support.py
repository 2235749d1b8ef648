"""What the repository contract tests share (tests/test_repositories_*.py): sessions opened
through the actions, one transaction's work, and rows made whole to write."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from causerie.actions.sessions import do_open_session
from causerie.domain.models import (
    Author,
    Conversation,
    ConversationState,
    Message,
    MessageType,
    PageView,
    Session,
    SessionState,
)
from causerie.domain.ports import Tx
from causerie.tokens import new_id
from tests.conftest import ORIGIN, Harness, Site

R = TypeVar("R")


def open_session_id(harness: Harness, site: Site, ip: str = "203.0.113.7") -> str:
    opened = harness.run(
        do_open_session(
            harness.rt,
            website_id=site.website_id,
            token=None,
            page=PageView(url="https://shop.example/a", title="A"),
            ip=ip,
            origin=ORIGIN,
        )
    )
    return opened.session.id


T0 = datetime(2026, 3, 1, 12, 0, 0, 123_456, tzinfo=UTC)


def in_tx(harness: Harness, work: Callable[[Tx], Awaitable[R]]) -> R:
    async def run() -> R:
        async with harness.rt.store.transaction() as tx:
            return await work(tx)

    return harness.run(run())


def make_session(website_id: str, **changes: Any) -> Session:
    values: dict[str, Any] = {
        "id": new_id(),
        "website_id": website_id,
        "state": SessionState.TEMPORARY,
        "created_at": T0,
        "last_access_at": T0,
        "ip": "203.0.113.9",
        "ip_seen_at": T0,
        "user_agent": "UA",
        "locale": "fr",
        "timezone": "Europe/Paris",
        "page_url": "https://shop.example/",
        "page_title": "Shop",
        "page_referrer": "",
    }
    values.update(changes)
    return Session(**values)


def make_conversation(session: Session, **changes: Any) -> Conversation:
    values: dict[str, Any] = {
        "id": new_id(),
        "website_id": session.website_id,
        "session_id": session.id,
        "state": ConversationState.OPEN,
        "assignee_id": None,
        "created_at": T0,
        "updated_at": T0,
        "last_message_at": T0,
    }
    values.update(changes)
    return Conversation(**values)


def make_message(conversation: Conversation, n: int, author: Author = Author.VISITOR) -> Message:
    return Message(
        id=new_id(),
        conversation_id=conversation.id,
        author=author,
        type=MessageType.TEXT,
        body=f"body {n}",
        client_id=f"c{n}",
        created_at=T0 + timedelta(seconds=n),
    )
