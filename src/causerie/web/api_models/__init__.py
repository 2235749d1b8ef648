"""The shapes of `/api/v1`: request bodies (strict: unknown fields refused) and responses.

Responses are declared so the OpenAPI document says exactly what comes back; the serialisers in
`domain/wire.py` and `web/api_json.py` produce them. Accounts, websites, operators, conversations,
tokens and statistics are here; webhooks, privacy, inbox tools (canned replies, labels), push
and reports in the modules beside this one.

Annotations here are evaluated as the classes are made (no `from __future__ import annotations`):
as strings, pydantic would compile and evaluate each field's annotation at start, a quarter of
this module's import time (docs/performance.md, "Lighter at rest").
"""

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, create_model

from causerie.domain.languages import LANGUAGES, EventLine
from causerie.domain.mail import NOTIFICATION_PREFERENCES
from causerie.domain.retention import WEBSITE_RULES
from causerie.domain.teams import CAPACITY_MAX, DEFAULT_CAPACITY, MEMBERS_MAX
from causerie.domain.teams import NAME_MAX as TEAM_NAME_MAX
from causerie.domain.websites import (
    AUTO_RESOLVE_MINUTES_MAX,
    NAME_MAX,
    RETENTION_DAYS_MAX,
    SETTINGS,
    Setting,
)
from causerie.web.schemas import Patch, Strict, named

Id = Annotated[str, Field(min_length=1, max_length=64)]
RoleName = Literal["owner", "admin", "agent"]
ScopeName = Literal["read", "write"]


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class ErrorDetail(Out):
    code: str
    message: str


class ErrorOut(Out):
    """Every error of the API: `{"error": {"code": "snake_case", "message": "..."}}`."""

    error: ErrorDetail


# The error answers every route may give: (status, name, description). Declared once, as
# components of the OpenAPI document (`components/responses`, web/openapi.py), which each route
# references: a `model` per answer would have FastAPI build a pydantic field for each answer of
# each route at start (about 900 of them; docs/performance.md).
ERROR_ANSWERS: tuple[tuple[int, str, str], ...] = (
    (400, "BadRequest", "The body is not JSON"),
    (401, "Unauthenticated", "No credential, or an unknown or expired one"),
    (403, "Forbidden", "The role, the token's scope or the CSRF token does not allow it"),
    (404, "NotFound", "Unknown id, or an object of a website the caller does not belong to"),
    (409, "Conflict", "The change would break a rule"),
    (413, "TooLarge", "The body is too large"),
    (415, "UnsupportedMediaType", "The body is not sent as JSON (Content-Type: application/json)"),
    (422, "Invalid", "Wrong fields; the message names the field first"),
    (429, "RateLimited", "Too many attempts; see Retry-After"),
    (503, "Unavailable", "A shared service or the database cannot answer now; see Retry-After"),
)
ERROR_RESPONSES_REF = "#/components/responses/"
# The routers' `responses`: a route's own entry for a status replaces the shared one.
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"$ref": ERROR_RESPONSES_REF + name} for status, name, _ in ERROR_ANSWERS
}


# accounts


class LoginIn(Strict):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1000)


class LinkIn(Strict):
    token: str = Field(min_length=1, max_length=100)


class AcceptIn(Strict):
    token: str = Field(min_length=1, max_length=100)
    name: str = Field(default="", max_length=200)  # ignored when the person has an account
    password: str = Field(max_length=1000)
    email: str | None = Field(default=None, max_length=320)


class NameIn(Strict):
    name: str = Field(max_length=200)


class MePatch(Patch):
    """`PATCH /api/v1/me`: the display name, notification preferences, the inbox's language (a
    code of domain/languages.py LANGUAGES; null: the browser's), or several of them."""

    clearable = frozenset({"language"})

    name: str | None = Field(default=None, max_length=200, json_schema_extra=named(200))
    notification_preferences: dict[str, StrictBool] | None = Field(
        default=None,
        json_schema_extra={"propertyNames": {"enum": [p.name for p in NOTIFICATION_PREFERENCES]}},
    )
    language: str | None = Field(
        default=None, max_length=8, json_schema_extra={"enum": [*LANGUAGES, None]}
    )


class PasswordIn(Strict):
    current_password: str = Field(max_length=1000)
    new_password: str = Field(max_length=1000)


class OperatorOut(Out):
    id: str
    email: str
    name: str


class WebsiteRef(Out):
    id: str
    name: str
    role: RoleName


class LoginOut(Out):
    operator: OperatorOut
    csrf_token: str


class MeOut(Out):
    operator: OperatorOut
    websites: list[WebsiteRef]
    csrf_token: str | None
    via: Literal["cookie", "token"]
    # domain/mail.py NOTIFICATION_PREFERENCES: each name, true or false
    notification_preferences: dict[str, bool]
    language: str | None  # domain/languages.py LANGUAGES; null: the browser's
    shield_admin: bool = Field(
        description="whether this credential may read GET /api/v1/shield and the server-wide "
        "block rules: CAUSERIE_SHIELD_ADMINS names the operator, with the read scope and no "
        "website limit (the inbox asks for the overview only then)"
    )


class MePatchOut(Out):
    operator: OperatorOut
    notification_preferences: dict[str, bool]
    language: str | None


class MailFailureOut(Out):
    id: str
    address: str
    error: str
    failed_at: str | None
    session_id: str | None
    operator_id: str | None


class MailFailuresOut(Out):
    failures: list[MailFailureOut]


class LinkOut(Out):
    purpose: Literal["setup", "invite"]
    email: str | None
    websites: list[WebsiteRef]
    has_account: bool


class OperatorBody(Out):
    operator: OperatorOut


# websites


class WebsiteIn(Strict):
    name: str = Field(max_length=NAME_MAX, json_schema_extra=named(NAME_MAX))
    origins: list[Annotated[str, Field(max_length=300)]] = Field(min_length=1, max_length=50)


def _setting_field(setting: Setting) -> tuple[Any, Any]:
    """The API's field for one website setting: optional in a change (unset: unchanged)."""
    kind: Any = Literal.__getitem__(setting.choices) if setting.choices else setting.type
    return (kind | None, Field(default=None, max_length=setting.max_length))


_RETENTION_DAYS = (int | None, Field(default=None, ge=1, le=RETENTION_DAYS_MAX))


class _Patch(Patch):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


# Built from the domain's declarations (`domain/websites.py` SETTINGS, `domain/retention.py`
# WEBSITE_RULES), so the API and `check_settings` read one list of settings and limits.
_RETENTION_FIELDS: dict[str, Any] = {rule.value: _RETENTION_DAYS for rule in WEBSITE_RULES}


class _AnyRuleClears(_Patch):
    clearable = frozenset(rule.value for rule in WEBSITE_RULES)


class _SomeSettingsClear(_Patch):
    refuses_null = False  # the others are refused by `check_settings`: `invalid_settings`
    clearable = frozenset(
        {setting.name for setting in SETTINGS if setting.nullable}
        | {"retention", "business_hours", "auto_resolve_minutes"}
    )


_RetentionPatch: type[_Patch] = create_model(
    "RetentionPatch",
    __base__=_AnyRuleClears,
    __doc__="Days; a website may shorten the server's retention, never lengthen it. null: the "
    "server's.",
    **_RETENTION_FIELDS,
)
_SETTING_FIELDS: dict[str, Any] = {setting.name: _setting_field(setting) for setting in SETTINGS}
_SETTING_FIELDS["retention"] = (_RetentionPatch | None, None)
# Checked field by field by the domain (domain/hours.py), which names what is wrong.
_SETTING_FIELDS["business_hours"] = (dict[str, Any] | None, None)
_SETTING_FIELDS["auto_resolve_minutes"] = (
    int | None,
    Field(default=None, ge=1, le=AUTO_RESOLVE_MINUTES_MAX),
)
_SettingsPatch: type[_Patch] = create_model(
    "SettingsPatch",
    __base__=_SomeSettingsClear,
    **_SETTING_FIELDS,
)
if TYPE_CHECKING:
    SettingsPatch = _Patch
else:
    SettingsPatch = _SettingsPatch


class WebsitePatch(Patch):
    name: str | None = Field(default=None, max_length=NAME_MAX, json_schema_extra=named(NAME_MAX))
    origins: list[Annotated[str, Field(max_length=300)]] | None = Field(
        default=None, min_length=1, max_length=50
    )
    settings: SettingsPatch | None = None


class WebsiteOut(Out):
    id: str
    name: str
    origins: list[str]
    settings: dict[str, Any]
    created_at: str


class WebsiteWithRole(WebsiteOut):
    role: RoleName


class WebsitesOut(Out):
    websites: list[WebsiteWithRole]


class WebsiteBody(Out):
    website: WebsiteOut


class WebsiteDetailOut(Out):
    website: WebsiteOut
    role: RoleName
    snippet: str


class DeletedWebsite(Out):
    website_id: str
    conversations: int


class DeletedWebsiteOut(Out):
    deleted: DeletedWebsite


class VisitorsOut(Out):
    visitors: list[dict[str, Any]]


# operators of a website


class InviteIn(Strict):
    email: str = Field(max_length=320)
    role: RoleName = "agent"


class RoleIn(Strict):
    role: RoleName


class MemberOut(Out):
    id: str
    email: str
    name: str
    role: RoleName
    pending: bool


class MembersOut(Out):
    operators: list[MemberOut]


class InvitedOut(Out):
    operator: MemberOut
    invitation_url: str


class MemberBody(Out):
    operator: MemberOut


# conversations, messages, visitors


class ReadUpTo(Out):
    visitor: str | None
    operator: str | None


class ConversationOut(Out):
    id: str
    state: Literal["open", "resolved"]
    updated_at: str | None
    last_message_at: str | None
    unread: int
    read_up_to: ReadUpTo
    session_id: str
    website_id: str
    assignee_id: str | None
    unread_by_visitor: int
    labels: list[str]
    team_id: str | None
    spam: bool = Field(description="marked as spam: listed only with `state=spam`")


class MessageOperator(Out):
    id: str
    name: str


class FileOut(Out):
    id: str
    name: str
    size: int
    content_type: str
    url: str
    thumbnail_url: str | None = None
    expired: bool = False


class EventLineOut(Out):
    """An event line's kind and parameters (domain/languages.py): `transferred` has `to` (an
    operator's or a team's name) and `by` (who transferred, absent for an integration);
    `auto_resolved` has `minutes`."""

    kind: EventLine
    to: str | None = None
    by: str | None = None
    minutes: int | None = None


class MessageOut(Out):
    id: str
    conversation_id: str
    author: Literal["visitor", "operator", "system"]
    type: Literal["text", "file", "note", "event"]
    body: str
    client_id: str
    created_at: str | None
    operator: MessageOperator | None = None
    file: FileOut | None = None
    event: EventLineOut | None = None  # event lines only; absent on rows stored before (0017)


class VisitorRef(Out):
    nickname: str | None
    email: str | None


class SummaryOut(ConversationOut):
    visitor: VisitorRef
    last_message: MessageOut | None


class ConversationsOut(Out):
    conversations: list[SummaryOut]
    next_cursor: str | None


class PageOut(Out):
    url: str
    title: str
    referrer: str


class ProfileOut(Out):
    nickname: str | None
    email: str | None
    phone: str | None
    data: dict[str, Any]


class ConsentOut(Out):
    version: int
    accepted_at: str | None


class SessionOut(Out):
    id: str
    website_id: str
    state: Literal["temporary", "permanent"]
    created_at: str | None
    last_access_at: str | None
    page: PageOut
    locale: str | None
    timezone: str | None
    user_agent: str
    consent: ConsentOut | None
    profile: ProfileOut


class RatingOut(Out):
    conversation_id: str
    rating: int
    comment: str | None
    resolved_at: str | None
    created_at: str | None


class ThreadOut(Out):
    conversation: ConversationOut
    session: SessionOut
    messages: list[MessageOut]
    assignee: OperatorOut | None
    ratings: list[RatingOut]
    spam: bool = Field(description="the conversation's `spam`, repeated for older clients")


class MessagesOut(Out):
    messages: list[MessageOut]


class MessageBody(Out):
    message: MessageOut


class ConversationBody(Out):
    conversation: ConversationOut


class SessionDetailOut(Out):
    session: SessionOut
    conversation_id: str | None


class SessionBody(Out):
    session: SessionOut


class AssignIn(Strict):
    operator_id: Id | None


class TransferIn(Strict):
    """One of the two: an operator of the website, or one of its teams."""

    operator_id: Id | None = None
    team_id: Id | None = None


class TeamIn(Strict):
    name: str = Field(max_length=TEAM_NAME_MAX, json_schema_extra=named(TEAM_NAME_MAX))
    mode: Literal["round_robin", "manual"] = "round_robin"
    capacity: int = Field(default=DEFAULT_CAPACITY, ge=1, le=CAPACITY_MAX, strict=True)
    members: list[Id] = Field(default_factory=list, max_length=MEMBERS_MAX)


class TeamPatch(Patch):
    name: str | None = Field(
        default=None, max_length=TEAM_NAME_MAX, json_schema_extra=named(TEAM_NAME_MAX)
    )
    mode: Literal["round_robin", "manual"] | None = None
    capacity: int | None = Field(default=None, ge=1, le=CAPACITY_MAX, strict=True)
    members: list[Id] | None = Field(default=None, max_length=MEMBERS_MAX)


class TeamOut(Out):
    id: str
    website_id: str
    name: str
    mode: Literal["round_robin", "manual"]
    capacity: int
    members: list[str]
    created_at: str | None


class TeamBody(Out):
    team: TeamOut


class TeamsOut(Out):
    teams: list[TeamOut]


class ReadIn(Strict):
    up_to: Id


class Deleted(Out):
    conversation_id: str
    messages: int


class DeletedOut(Out):
    deleted: Deleted


# API tokens


class TokenIn(Strict):
    name: str = Field(max_length=200)
    scopes: list[ScopeName] = Field(min_length=1, max_length=2)
    website_ids: list[Id] | None = Field(default=None, max_length=100)


class TokenOut(Out):
    id: str
    name: str
    scopes: list[ScopeName]
    website_ids: list[str] | None
    created_at: str | None
    last_used_at: str | None


class TokensOut(Out):
    tokens: list[TokenOut]


class TokenCreatedOut(Out):
    token: TokenOut
    secret: str


class DayCounts(Out):
    day: str
    conversations: int
    visitor_messages: int
    operator_messages: int


class Totals(Out):
    conversations: int
    visitor_messages: int
    operator_messages: int


class StatsOut(Out):
    days: list[DayCounts]
    totals: Totals
