"""The JSON shapes of domain objects on the wire (HTTP responses, WebSocket frames, webhooks)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import orjson

from causerie.domain.events import Stream
from causerie.domain.labels import Label
from causerie.domain.mail import MailFailure
from causerie.domain.models import (
    ApiToken,
    Attachment,
    Conversation,
    ConversationSummary,
    Member,
    Message,
    Operator,
    Session,
    Website,
)
from causerie.domain.push import PushSubscription
from causerie.domain.ratings import Rating
from causerie.domain.replies import CannedReply
from causerie.domain.shield import BlockRule
from causerie.domain.teams import Team
from causerie.domain.webhooks import Delivery, Webhook
from causerie.domain.websites import public_settings

PREVIEW_LENGTH = 200


def iso(value: datetime | None) -> str | None:
    """ISO 8601, a UTC time ending in `Z` (`isoformat` with `+00:00` written `Z`).

    A time in UTC (every stored one) is written by orjson, which writes what `isoformat` would
    with `Z` for its offset (tests/test_wire_times.py): about 3.5 k instructions where Python's
    `isoformat`, which formats through `PyUnicode_FromFormat` twice, takes 13 k; one on every
    chatbox load (the session's `created_at`)."""
    if value is None:
        return None
    if value.tzinfo is UTC and type(value) is datetime:
        return orjson.dumps(value, option=orjson.OPT_UTC_Z)[1:-1].decode()
    return value.isoformat().replace("+00:00", "Z")


VISITOR_FILES = "/api/widget/v1/session/files/"
AGENT_FILES = "/api/v1/files/"


def file_path(file_id: str, *, for_visitor: bool, thumbnail: bool = False) -> str:
    """Where a file is fetched, with the credential of its audience (docs/api.md "Files"): a
    path on the server, the same on every node."""
    base = VISITOR_FILES if for_visitor else AGENT_FILES
    return f"{base}{file_id}/thumbnail" if thumbnail else f"{base}{file_id}"


def file_json(file: Attachment, *, for_visitor: bool) -> dict[str, Any]:
    """A message's file. An expired one (the website's `retention.files`) says so and has no
    thumbnail; its `url` answers 410."""
    out: dict[str, Any] = {
        "id": file.id,
        "name": file.name,
        "size": file.size,
        "content_type": file.content_type,
        "url": file_path(file.id, for_visitor=for_visitor),
    }
    if file.expired:
        out["expired"] = True
    elif file.has_thumbnail:
        out["thumbnail_url"] = file_path(file.id, for_visitor=for_visitor, thumbnail=True)
    return out


def message_json(message: Message, *, for_visitor: bool = False) -> dict[str, Any]:
    """`for_visitor`: a file's URLs are the visitor API's, fetched with the session token."""
    out: dict[str, Any] = {
        "id": message.id,
        "conversation_id": message.conversation_id,
        # `_value_`, the member's own attribute: `.value` is a property through enum's
        # descriptor, 1,730 instructions against 300 (docs/performance.md, "relay4").
        "author": message.author._value_,
        "type": message.type._value_,
        "body": message.body,
        "client_id": message.client_id,
        "created_at": iso(message.created_at),
    }
    if message.operator_id is not None:
        out["operator"] = {"id": message.operator_id, "name": message.operator_name or ""}
    if message.file is not None:
        out["file"] = file_json(message.file, for_visitor=for_visitor)
    if message.event is not None:
        out["event"] = message.event
    return out


def visitor_session_json(session: Session) -> dict[str, Any]:
    """What the visitor sees of their own session: never the IP."""
    return {
        "id": session.id,
        "state": session.state.value,
        "created_at": iso(session.created_at),
        "profile": {
            "nickname": session.nickname,
            "email": session.email,
            "phone": session.phone,
            "data": session.data,
        },
        "consent": consent_json(session),
    }


def consent_json(session: Session) -> dict[str, Any] | None:
    if session.consent_version is None:
        return None
    return {"version": session.consent_version, "accepted_at": iso(session.consent_at)}


def read_up_to_json(conversation: Conversation | None) -> dict[str, str | None]:
    """Each side's read mark: the id of the last message it read (null before any)."""
    if conversation is None:
        return {"visitor": None, "operator": None}
    return {
        "visitor": conversation.visitor_read_up_to,
        "operator": conversation.operator_read_up_to,
    }


def conversation_json(conversation: Conversation, *, for_visitor: bool) -> dict[str, Any]:
    """The conversation as agents see it, or as its visitor does: without its times, which move
    with agents' private notes and assignments too (the visitor learns no note's moment)."""
    if for_visitor:
        return {
            "id": conversation.id,
            "state": conversation.state.value,
            "unread": conversation.unread_by_visitor,
            "read_up_to": read_up_to_json(conversation),
        }
    return {
        "id": conversation.id,
        "state": conversation.state.value,
        "updated_at": iso(conversation.updated_at),
        "last_message_at": iso(conversation.last_message_at),
        "unread": conversation.unread_by_operator,
        "read_up_to": read_up_to_json(conversation),
        "session_id": conversation.session_id,
        "website_id": conversation.website_id,
        "assignee_id": conversation.assignee_id,
        "team_id": conversation.team_id,
        "unread_by_visitor": conversation.unread_by_visitor,
        "labels": list(conversation.labels),
        "spam": conversation.spam,
    }


def visitor_and_agents(
    conversation: Conversation, was: Conversation | None
) -> list[tuple[Stream, bool]]:
    """The streams a change of `conversation` from `was` (None: unknown) is told on, each with
    whether it is the visitor's: the website's always, the visitor's only when their view
    changed, so that an assignment or a transfer tells them nothing of agents' doings."""
    streams = [(Stream.of_website(conversation.website_id), False)]
    if was is None or conversation_json(was, for_visitor=True) != conversation_json(
        conversation, for_visitor=True
    ):
        streams.append((Stream.of_session(conversation.session_id), True))
    return streams


def agent_session_json(session: Session) -> dict[str, Any]:
    """What an agent sees of a visitor's session: the visitor's context, not their address."""
    return {
        "id": session.id,
        "website_id": session.website_id,
        "state": session.state.value,
        "created_at": iso(session.created_at),
        "last_access_at": iso(session.last_access_at),
        "page": {
            "url": session.page_url,
            "title": session.page_title,
            "referrer": session.page_referrer,
        },
        "locale": session.locale,
        "timezone": session.timezone,
        "user_agent": session.user_agent,
        "consent": consent_json(session),
        "profile": {
            "nickname": session.nickname,
            "email": session.email,
            "phone": session.phone,
            "data": session.data,
        },
    }


def operator_json(operator: Operator) -> dict[str, Any]:
    return {"id": operator.id, "email": operator.email, "name": operator.name}


def mail_failure_json(failure: MailFailure) -> dict[str, Any]:
    """An address the mail server refused for good (docs/notifications.md)."""
    return {
        "id": failure.id,
        "address": failure.address,
        "error": failure.error,
        "failed_at": iso(failure.failed_at),
        "session_id": failure.session_id,
        "operator_id": failure.operator_id,
    }


def website_json(website: Website) -> dict[str, Any]:
    return {
        "id": website.id,
        "name": website.name,
        "origins": list(website.origins),
        "settings": public_settings(website),
        "created_at": iso(website.created_at),
    }


def member_json(member: Member) -> dict[str, Any]:
    return {**operator_json(member.operator), "role": member.role.value, "pending": member.pending}


def summary_json(summary: ConversationSummary) -> dict[str, Any]:
    """A row of the conversation list: the conversation, who the visitor is, the last message
    (its body cut to a preview)."""
    last = summary.last_message
    preview = None
    if last is not None:
        preview = message_json(last)
        preview["body"] = last.body[:PREVIEW_LENGTH]
    return {
        **conversation_json(summary.conversation, for_visitor=False),
        "visitor": {"nickname": summary.nickname, "email": summary.email},
        "last_message": preview,
    }


def api_token_json(token: ApiToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "scopes": sorted(token.scopes),
        "website_ids": None if token.website_ids is None else sorted(token.website_ids),
        "created_at": iso(token.created_at),
        "last_used_at": iso(token.last_used_at),
    }


def reply_json(reply: CannedReply) -> dict[str, Any]:
    return {
        "id": reply.id,
        "shortcut": reply.shortcut,
        "title": reply.title,
        "body": reply.body,
        "created_at": iso(reply.created_at),
        "updated_at": iso(reply.updated_at),
    }


def label_json(label: Label) -> dict[str, Any]:
    return {"id": label.id, "name": label.name, "color": label.color}


def push_subscription_json(subscription: PushSubscription) -> dict[str, Any]:
    """One of the caller's own browsers: never its keys."""
    return {
        "id": subscription.id,
        "device": subscription.device,
        "endpoint": subscription.endpoint,
        "service": urlsplit(subscription.endpoint).hostname or "",
        "created_at": iso(subscription.created_at),
    }


def webhook_json(webhook: Webhook) -> dict[str, Any]:
    """A webhook as its managers see it: never its secret (shown once, when made or rotated)."""
    return {
        "id": webhook.id,
        "website_id": webhook.website_id,
        "url": webhook.url,
        "events": list(webhook.events),
        "enabled": webhook.enabled,
        "created_at": iso(webhook.created_at),
        "failing_since": iso(webhook.failing_since),
        "disabled_at": iso(webhook.disabled_at),
        "previous_secret_until": iso(webhook.previous_until),
    }


def delivery_json(delivery: Delivery) -> dict[str, Any]:
    """An entry of the delivery log (the body is not repeated: the receiver has it)."""
    return {
        "id": delivery.id,
        "webhook_id": delivery.webhook_id,
        "type": delivery.event_type,
        "state": delivery.state.value,
        "attempts": delivery.attempts,
        "created_at": iso(delivery.created_at),
        "last_attempt_at": iso(delivery.last_attempt_at),
        "next_attempt_at": iso(delivery.next_attempt_at),
        "status_code": delivery.status_code,
        "latency_ms": delivery.latency_ms,
        "error": delivery.error,
        "answer_head": delivery.answer_head,
    }


def block_rule_json(rule: BlockRule) -> dict[str, Any]:
    """A block rule as its website's managers (or the shield's admins) see it (P18)."""
    return {
        "id": rule.id,
        "website_id": rule.website_id,
        "kind": rule.kind.value,
        "value": rule.value,
        "reason": rule.reason,
        "created_at": iso(rule.created_at),
        "created_by": rule.created_by,
        "expires_at": iso(rule.expires_at),
    }


def team_json(team: Team) -> dict[str, Any]:
    return {
        "id": team.id,
        "website_id": team.website_id,
        "name": team.name,
        "mode": team.mode.value,
        "capacity": team.capacity,
        "members": list(team.members),
        "created_at": iso(team.created_at),
    }


def rating_json(rating: Rating) -> dict[str, Any]:
    """A visitor's rating: also the payload of `conversation.rated`."""
    return {
        "conversation_id": rating.conversation_id,
        "rating": rating.rating,
        "comment": rating.comment,
        "resolved_at": iso(rating.resolved_at),
        "created_at": iso(rating.created_at),
    }
