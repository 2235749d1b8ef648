"""What a person can ask for (P9, P12): the export document, built from what is stored.

The export is machine-readable JSON: every session of the person with its IP (and when it was
recorded), browser context, profile, consent and conversation.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from causerie.domain.labels import Label
from causerie.domain.models import Conversation, Message, Session, Website
from causerie.domain.ratings import Rating
from causerie.domain.wire import iso, message_json, rating_json

EXPORT_FORMAT = "causerie.personal-data/1"
LEGAL_FORMAT = "causerie.legal-export/1"

DPA_VERSION = "2026-11"
"""The data-processing agreement this release offers (docs/privacy.md "DPA"); a website records
which version its owner accepted (P10)."""


def session_export(
    session: Session,
    website: Website | None,
    conversation: Conversation | None,
    messages: list[Message],
    mail: dict[str, Any] | None = None,
    ratings: list[Rating] | None = None,
    labels: list[Label] | None = None,
) -> dict[str, Any]:
    """`mail`: the visitor's mail state (docs/notifications.md): when they unsubscribed, and
    their addresses the mail server refused. `labels`: the website's labels, given for the
    export agents make (their classification goes with their notes): the conversation's are
    listed by id and name, with whether an agent marked it as spam; None leaves both out (the
    visitor's own download)."""
    exported: dict[str, Any] = {
        "id": session.id,
        "website": {"id": session.website_id, "name": website.name if website else None},
        "state": session.state.value,
        "created_at": iso(session.created_at),
        "last_access_at": iso(session.last_access_at),
        "permanent_since": iso(session.permanent_since),
        "ip": (
            {"address": session.ip, "recorded_at": iso(session.ip_seen_at)} if session.ip else None
        ),
        "user_agent": session.user_agent,
        "locale": session.locale,
        "timezone": session.timezone,
        "page": {
            "url": session.page_url,
            "title": session.page_title,
            "referrer": session.page_referrer,
        },
        "profile": {
            "nickname": session.nickname,
            "email": session.email,
            "phone": session.phone,
            "data": session.data,
        },
        "consent": (
            {"version": session.consent_version, "accepted_at": iso(session.consent_at)}
            if session.consent_version is not None
            else None
        ),
        "conversation": (
            {
                "id": conversation.id,
                "state": conversation.state.value,
                "created_at": iso(conversation.created_at),
                "messages": [message_json(m) for m in messages],
                "ratings": [rating_json(r) for r in ratings or []],
            }
            if conversation
            else None
        ),
        "mail": mail or {"unsubscribed_at": None, "refused": []},
    }
    if conversation is not None and labels is not None:
        names = {label.id: label.name for label in labels}
        exported["conversation"]["labels"] = [
            {"id": label_id, "name": names.get(label_id)} for label_id in conversation.labels
        ]
        exported["conversation"]["spam"] = conversation.spam  # an agent's judgement, as labels
    return exported


def export_document(
    generated_at: datetime, query: dict[str, str], sessions: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "format": EXPORT_FORMAT,
        "generated_at": iso(generated_at),
        "query": query,
        "sessions": sessions,
    }
