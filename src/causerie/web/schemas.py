"""What goes over the wire: request models (strict, extra fields refused) and serialisers."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from causerie.actions.messages import MAX_BODY_CHARS
from causerie.domain.profiles import MAX_EMAIL, MAX_NICKNAME, MAX_PHONE
from causerie.domain.sessions import MAX_ZONE, ZONE_PATTERN, known_zone
from causerie.web.text_bodies import refuses_faults
from causerie.web.wire_values import refuse_faults


class Strict(BaseModel):
    """A request body: unknown fields refused, and no value `web/wire_values.py` refuses."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    _refuse_faults = model_validator(mode="before")(refuse_faults)


def _null_only_where_it_clears(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """The document tells a change's fields as they are read: `null` only where it clears."""
    clearable: frozenset[str] = getattr(model, "clearable", frozenset())
    for name, field in schema.get("properties", {}).items():
        options = field.get("anyOf")
        if name in clearable or not options or {"type": "null"} not in options:
            continue
        rest = [option for option in options if option != {"type": "null"}]
        del field["anyOf"]
        field.update(rest[0] if len(rest) == 1 else {"anyOf": rest})
        if "default" in field and field["default"] is None:
            del field["default"]


class Patch(Strict):
    """A change (`PATCH`): a field left out keeps its value. `null` clears only the fields named
    in `clearable` (docs/api.md); anywhere else it is refused naming the field, where it was read
    as the field left out and answered 200 changing nothing."""

    model_config = ConfigDict(json_schema_extra=_null_only_where_it_clears)
    clearable: ClassVar[frozenset[str]] = frozenset()
    # False where the domain refuses the null itself, with a code of its own (the website
    # settings: `invalid_settings`, domain/websites.py); the document tells it all the same.
    refuses_null: ClassVar[bool] = True

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and cls.refuses_null and info.field_name not in cls.clearable:
            raise PydanticCustomError(
                "null_refused", "null is not a value here (leave the field out to keep it)"
            )
        return value


Locale = Annotated[str, Field(max_length=35, pattern=r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")]
_ZONE = re.compile(ZONE_PATTERN)


@refuses_faults  # its pattern is of ASCII characters
def _time_zone(name: str) -> str | None:
    """A name of the wrong shape is refused; a well-shaped one the server's tzdata lacks is kept
    as none (domain/sessions.py, `known_zone`)."""
    if len(name) > MAX_ZONE or not _ZONE.match(name):
        raise PydanticCustomError(
            "time_zone",
            f"an IANA time zone name such as Europe/Paris, at most {MAX_ZONE} characters",
        )
    return known_zone(name)


TimeZone = Annotated[
    str,
    Field(json_schema_extra={"maxLength": MAX_ZONE, "pattern": ZONE_PATTERN}),
    AfterValidator(_time_zone),
]


def _utc_time(value: object) -> datetime:
    """An ISO 8601 time given as text, in UTC (one without an offset is taken as UTC; a date
    alone is its midnight). A number is refused: pydantic read `1900000000` as seconds since
    1970, and `99999999999999` as milliseconds, where the wire's times are ISO 8601."""
    if isinstance(value, str):
        try:
            at = datetime.fromisoformat(value)
            return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
        except (ValueError, OverflowError):  # overflow: year 9999 at an offset west of UTC
            pass
    raise PydanticCustomError("iso_time", "an ISO 8601 time such as 2030-01-01T00:00:00Z")


UtcTime = Annotated[datetime, BeforeValidator(_utc_time)]


class PageIn(Strict):
    """The page the chatbox is on: `url` required (agents see it), `title` and `referrer` may be
    absent, as they often are in a browser (docs/api.md)."""

    url: str = Field(max_length=2048)
    title: str = Field(default="", max_length=500)
    referrer: str = Field(default="", max_length=2048)


class ProofIn(Strict):
    """A solved challenge of the shield: the nonce it gave and the solution found."""

    nonce: str = Field(min_length=1, max_length=100)
    solution: str = Field(min_length=1, max_length=64)


class SessionIn(Strict):
    token: str | None = Field(default=None, min_length=1, max_length=100)
    page: PageIn
    locale: Locale | None = None
    timezone: TimeZone | None = None
    proof: ProofIn | None = None
    # The honeypot: no chatbox ever fills it; a bot filling every field it finds does.
    homepage: str | None = Field(default=None, max_length=2048)


# What the OpenAPI document declares of a text the domain checks with its own code and message
# (`json_schema_extra`: validation stays the domain's). Patterns are ECMA-262 searches.
#: Holds a character other than whitespace (`str.isspace`, what `strip` removes).
NOT_BLANK = r"[^\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
#: A message's body: a character neither whitespace nor invisible (actions/messages.py _BLANK)
#: nor a control character a visitor's message loses (domain/texts.py).
VISIBLE = (
    r"[^\x00-\x20\x7f-\x9f\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
    r"\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)
CLIENT_ID = r"^[A-Za-z0-9._:-]{1,64}$"  # actions/messages.py _CLIENT_ID


def named(limit: int) -> dict[str, Any]:
    """The document's declaration of a name the domain strips, then checks for 1 to `limit`."""
    return {"minLength": 1, "pattern": NOT_BLANK, "maxLength": limit}


class MessageIn(Strict):
    """A visitor's message: of type `text` alone."""

    client_id: str = Field(min_length=1, max_length=64, json_schema_extra={"pattern": CLIENT_ID})
    type: str = Field(default="text", max_length=16, json_schema_extra={"enum": ["text"]})
    body: str = Field(json_schema_extra={"pattern": VISIBLE, "maxLength": MAX_BODY_CHARS})


class OperatorMessageIn(MessageIn):
    """An operator's message: `text`, or `note` (seen by operators alone)."""

    type: str = Field(default="text", max_length=16, json_schema_extra={"enum": ["text", "note"]})


class TranscriptIn(Strict):
    """A transcript takes nothing: no body, or `{}`; it goes to the email the visitor left (set
    with `PATCH /session/profile`). A field (an `email` to send it elsewhere) is refused naming
    it rather than ignored: the mail would not go where the client meant."""


class ProfileIn(Patch):
    """`null` (or a blank text) clears a field; `data` changes key by key (`null` for a key
    removes it), so `null` for the whole of it is refused (docs/api.md)."""

    clearable = frozenset({"nickname", "email", "phone"})
    # The nickname's and the phone's lengths are checked by the domain alone (its codes, and
    # its limits told truly); the document shows them. The body limit bounds what is read.
    nickname: str | None = Field(default=None, json_schema_extra={"maxLength": MAX_NICKNAME})
    email: str | None = Field(default=None, max_length=MAX_EMAIL)
    phone: str | None = Field(default=None, json_schema_extra={"maxLength": MAX_PHONE})
    data: dict[str, Any] | None = None


class ConsentIn(Strict):
    version: int = Field(ge=1, le=1_000_000, strict=True)


class RatingIn(Strict):
    rating: int = Field(ge=1, le=5, strict=True)
    comment: str | None = Field(default=None, max_length=1000)
