"""The shapes of `/api/v1/push` (docs/notifications.md, "Push")."""

# Annotations evaluated as the classes are made: see this package's __init__.

from pydantic import Field, StrictFloat

from causerie.web.api_models import Out
from causerie.web.schemas import Strict


class PushKeyOut(Out):
    public_key: str


class PushKeysIn(Strict):
    p256dh: str = Field(max_length=200)
    auth: str = Field(max_length=100)


class PushSubscriptionIn(Strict):
    """The browser's `PushSubscription.toJSON()`, as it is."""

    endpoint: str = Field(max_length=2000)
    keys: PushKeysIn
    # The browser's name; a number of milliseconds (StrictFloat takes an integer too, and one type
    # names the field alone when refused: a union named its members, "expirationTime.int").
    expirationTime: StrictFloat | None = None


class PushSubscriptionOut(Out):
    id: str
    device: str
    endpoint: str
    service: str
    created_at: str | None


class PushSubscriptionBody(Out):
    subscription: PushSubscriptionOut


class PushSubscriptionsOut(Out):
    subscriptions: list[PushSubscriptionOut]


class PushPreferencesIn(Strict):
    push_previews: bool = Field(strict=True)


class PushPreferencesOut(Out):
    push_previews: bool
