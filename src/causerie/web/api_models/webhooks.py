"""The shapes of `/api/v1`'s webhooks (docs/api.md, "Webhooks")."""

# Annotations evaluated as the classes are made: see this package's __init__.
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from causerie.web.api_models import Out
from causerie.web.schemas import Patch, Strict

WebhookEventName = Literal[
    "message.created",
    "conversation.created",
    "conversation.updated",
    "conversation.resolved",
    "conversation.rated",
    "conversation.deleted",
    "session.erased",
]


def _each_once(value: Any) -> Any:
    """An event listed twice counts once (docs/api.md), before the length is checked: the whole
    catalogue with a repeat is not "more than 7"."""
    if isinstance(value, list) and all(isinstance(name, str) for name in value):
        return list(dict.fromkeys(value))
    return value  # not a list of texts: refused as the type says


WebhookEvents = Annotated[
    list[WebhookEventName], BeforeValidator(_each_once), Field(min_length=1, max_length=7)
]


class WebhookIn(Strict):
    url: str = Field(min_length=1, max_length=2000)
    events: WebhookEvents


class WebhookPatch(Patch):
    url: str | None = Field(default=None, min_length=1, max_length=2000)
    events: WebhookEvents | None = None
    enabled: bool | None = Field(default=None, strict=True)


class RotateIn(Strict):
    """A rotation takes nothing: no body, or `{}`. Any field is refused (422 naming it) rather
    than ignored: a client asking for something (its own secret, no overlap) would be mistaken
    about what was done."""


class WebhookOut(Out):
    id: str
    website_id: str
    url: str
    events: list[WebhookEventName]
    enabled: bool
    created_at: str
    failing_since: str | None
    disabled_at: str | None
    previous_secret_until: str | None


class WebhookBody(Out):
    webhook: WebhookOut


class WebhooksOut(Out):
    webhooks: list[WebhookOut]


class WebhookCreatedOut(Out):
    webhook: WebhookOut
    secret: str


class DeliveryOut(Out):
    id: str
    webhook_id: str
    type: WebhookEventName
    state: Literal["pending", "delivered", "failed"]
    attempts: int
    created_at: str
    last_attempt_at: str | None
    next_attempt_at: str | None
    status_code: int | None
    latency_ms: int | None
    error: str | None
    answer_head: str | None


class DeliveryBody(Out):
    delivery: DeliveryOut


class DeliveriesOut(Out):
    deliveries: list[DeliveryOut]
