"""The JSON the domain sends (`domain/wire.py`) and the API's declared responses
(`web/api_models/`) describe the same objects: each builder's output is checked here against
its model, field for field, so neither can gain, lose or retype a field alone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel

from causerie.domain.labels import Label
from causerie.domain.languages import auto_resolved_line, transferred_line
from causerie.domain.models import (
    ApiToken,
    Attachment,
    Author,
    Conversation,
    ConversationState,
    ConversationSummary,
    Member,
    Message,
    MessageType,
    Operator,
    Role,
    Scope,
    Session,
    SessionState,
    Website,
)
from causerie.domain.push import PushSubscription
from causerie.domain.replies import CannedReply
from causerie.domain.webhooks import Delivery, DeliveryState, Webhook
from causerie.domain.wire import (
    agent_session_json,
    api_token_json,
    conversation_json,
    delivery_json,
    label_json,
    member_json,
    message_json,
    operator_json,
    push_subscription_json,
    reply_json,
    summary_json,
    webhook_json,
    website_json,
)
from causerie.web import api_models
from causerie.web.api_models import inbox_tools, push, webhooks

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
OPERATOR = Operator("op1", "ada@example.com", "Ada", NOW)
NOTE = Message("m1", "c1", Author.OPERATOR, MessageType.NOTE, "hi", "k1", NOW, "op1", "Ada")
TEXT = Message("m2", "c1", Author.VISITOR, MessageType.TEXT, "hello", "k2", NOW)
IMAGE = Attachment("f1", "shot.png", 2048, "image/png", has_thumbnail=True)
FILE = Message("m3", "c1", Author.VISITOR, MessageType.FILE, "shot.png", "file:f1", NOW, file=IMAGE)
EXPIRED = Message(
    "m4", "c1", Author.OPERATOR, MessageType.FILE, "a.pdf", "file:f2", NOW, "op1", "Ada",
    Attachment("f2", "a.pdf", 10, "application/pdf", has_thumbnail=False, expired=True),
)  # fmt: skip
TRANSFERRED, TRANSFERRED_BODY = transferred_line("Billing", "Ada")
TRANSFER = Message(
    "m5", "c1", Author.SYSTEM, MessageType.EVENT, TRANSFERRED_BODY, "transfer:x", NOW, "op1", "Ada",
    event=TRANSFERRED,
)  # fmt: skip
AUTO_RESOLVED, _ = auto_resolved_line(30)
CONVERSATION = Conversation(
    "c1", "w1", "s1", ConversationState.OPEN, "op1", NOW, NOW, NOW, 1, 2, "m1", "m2", ("l1",)
)
SESSION = Session(
    "s1", "w1", SessionState.PERMANENT, NOW, NOW, "192.0.2.1", NOW, "UA", "fr", "Europe/Paris",
    "https://shop.example/", "Shop", "", "Zoé", "z@example.com", "+33", {"plan": "pro"},
    NOW, 2, NOW,
)  # fmt: skip

CASES: list[tuple[str, dict[str, Any], type[BaseModel]]] = [
    ("message with operator", message_json(NOTE), api_models.MessageOut),
    ("message", message_json(TEXT), api_models.MessageOut),
    ("message with an image", message_json(FILE), api_models.MessageOut),
    ("message with a file, visitor", message_json(FILE, for_visitor=True), api_models.MessageOut),
    ("message with an expired file", message_json(EXPIRED), api_models.MessageOut),
    ("an event line", message_json(TRANSFER), api_models.MessageOut),
    ("a transfer's kind", TRANSFERRED, api_models.EventLineOut),
    ("a transfer's kind, by no one", transferred_line("Billing", None)[0], api_models.EventLineOut),
    ("an automatic resolution's kind", AUTO_RESOLVED, api_models.EventLineOut),
    (
        "conversation",
        conversation_json(CONVERSATION, for_visitor=False),
        api_models.ConversationOut,
    ),
    ("session", agent_session_json(SESSION), api_models.SessionOut),
    (
        "session without consent",
        agent_session_json(
            Session(
                "s2", "w1", SessionState.TEMPORARY, NOW, NOW, None, None, "", None, None, "", "", ""
            )
        ),
        api_models.SessionOut,
    ),
    ("operator", operator_json(OPERATOR), api_models.OperatorOut),
    (
        "website",
        website_json(Website("w1", "Shop", ("https://shop.example",), {}, NOW)),
        api_models.WebsiteOut,
    ),
    ("member", member_json(Member(OPERATOR, Role.ADMIN, pending=True)), api_models.MemberOut),
    (
        "summary",
        summary_json(ConversationSummary(CONVERSATION, "Zoé", None, NOTE)),
        api_models.SummaryOut,
    ),
    (
        "summary without messages",
        summary_json(ConversationSummary(CONVERSATION, None, None, None)),
        api_models.SummaryOut,
    ),
    (
        "token",
        api_token_json(
            ApiToken("t1", "op1", "CI", frozenset({Scope.READ}), NOW, frozenset({"w1"}), NOW)
        ),
        api_models.TokenOut,
    ),
    (
        "canned reply",
        reply_json(CannedReply("r1", "w1", "hello", "Hello", "Hi {visitor_name}!", NOW, NOW)),
        inbox_tools.ReplyOut,
    ),
    ("label", label_json(Label("l1", "w1", "Billing", "#12ab34", NOW)), inbox_tools.LabelOut),
    (
        "push subscription",
        push_subscription_json(
            PushSubscription("p1", "op1", "https://push.example/x", "P", "A", "Firefox", NOW)
        ),
        push.PushSubscriptionOut,
    ),
    (
        "webhook",
        webhook_json(Webhook("h1", "w1", "https://x.example/", ("message.created",), "s", NOW)),
        webhooks.WebhookOut,
    ),
    (
        "webhook rotated, failing, disabled",
        webhook_json(
            Webhook(
                "h1",
                "w1",
                "https://x.example/",
                ("session.erased",),
                "s",
                NOW,
                False,
                "p",
                NOW,
                NOW,
                NOW,
            )
        ),
        webhooks.WebhookOut,
    ),
    (
        "delivery pending",
        delivery_json(Delivery("msg_1", "h1", "message.created", "{}", NOW, next_attempt_at=NOW)),
        webhooks.DeliveryOut,
    ),
    (
        "delivery attempted",
        delivery_json(
            Delivery(
                "msg_1",
                "h1",
                "message.created",
                "{}",
                NOW,
                "s1",
                DeliveryState.DELIVERED,
                2,
                None,
                NOW,
                200,
                31,
                None,
                "ok",
            )
        ),
        webhooks.DeliveryOut,
    ),
]


@pytest.mark.parametrize(("data", "model"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_builder_writes_exactly_its_declared_response(
    data: dict[str, Any], model: type[BaseModel]
) -> None:
    """Validation refuses an extra or missing field (the models forbid extras, their fields are
    required); dumping back shows no value was coerced to fit."""
    assert model.model_validate(data).model_dump(mode="json", exclude_unset=True) == data


def test_every_declared_field_is_written_by_some_builder() -> None:
    for model in {model for _, _, model in CASES}:
        written = set().union(*(data for _, data, m in CASES if m is model))
        assert set(model.model_fields) == written, model.__name__


def test_a_file_is_fetched_from_its_audience_api() -> None:
    assert message_json(FILE)["file"] == {
        "id": "f1",
        "name": "shot.png",
        "size": 2048,
        "content_type": "image/png",
        "url": "/api/v1/files/f1",
        "thumbnail_url": "/api/v1/files/f1/thumbnail",
    }
    visitor = message_json(FILE, for_visitor=True)["file"]
    assert visitor["url"] == "/api/widget/v1/session/files/f1"
    assert visitor["thumbnail_url"] == "/api/widget/v1/session/files/f1/thumbnail"
    expired = message_json(EXPIRED)["file"]
    assert expired["expired"] is True and "thumbnail_url" not in expired
