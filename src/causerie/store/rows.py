"""Rows of the store's tables as domain objects: the one place that maps columns to fields."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row

from causerie.domain.models import (
    Author,
    Conversation,
    ConversationState,
    Message,
    MessageType,
    Operator,
    Session,
    SessionState,
    Website,
)


def website_from(row: Any) -> Website:
    return Website(
        id=row.id,
        name=row.name,
        origins=tuple(row.origins),
        settings=dict(row.settings),
        created_at=row.created_at,
    )


def operator_from(row: Row[Any]) -> Operator:
    return Operator(id=row.id, email=row.email, name=row.name, created_at=row.created_at)


# A dict lookup: calling the enum with a value takes its slow path, on every chatbox load.
_SESSION_STATES = {state.value: state for state in SessionState}


def session_from(row: Any) -> Session:
    return Session(
        id=row.id,
        website_id=row.website_id,
        state=_SESSION_STATES[row.state],
        created_at=row.created_at,
        last_access_at=row.last_access_at,
        permanent_since=row.permanent_since,
        ip=row.ip,
        ip_seen_at=row.ip_seen_at,
        user_agent=row.user_agent,
        locale=row.locale,
        timezone=row.timezone,
        page_url=row.page_url,
        page_title=row.page_title,
        page_referrer=row.page_referrer,
        nickname=row.nickname,
        email=row.email,
        phone=row.phone,
        data=dict(row.data),
        consent_version=row.consent_version,
        consent_at=row.consent_at,
    )


def conversation_from(row: Row[Any]) -> Conversation:
    return Conversation(
        id=row.id,
        website_id=row.website_id,
        session_id=row.session_id,
        state=ConversationState(row.state),
        assignee_id=row.assignee_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        last_message_at=row.last_message_at,
        unread_by_visitor=row.unread_by_visitor,
        unread_by_operator=row.unread_by_operator,
        visitor_read_up_to=row.visitor_read_up_to,
        operator_read_up_to=row.operator_read_up_to,
    )


def message_from(row: Row[Any]) -> Message:
    return Message(
        id=row.id,
        conversation_id=row.conversation_id,
        author=Author(row.author),
        type=MessageType(row.type),
        body=row.body,
        client_id=row.client_id,
        created_at=row.created_at,
        operator_id=row.operator_id,
        operator_name=row.operator_name,
    )
