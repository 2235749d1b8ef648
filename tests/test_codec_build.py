"""The store's codecs build a frozen dataclass with slots through an unfrozen twin (store/codec.py
`_unfrozen_twin`): what they build must be what the class's own constructor builds."""

from __future__ import annotations

import dataclasses
import pickle
from dataclasses import FrozenInstanceError, dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from causerie.domain.models import Session, SessionState, Website
from causerie.store import codec
from causerie.store.codec import SESSION_COLUMNS, Codec, _unfrozen_twin

AT = datetime(2026, 12, 8, 3, 0, tzinfo=UTC)


def _row(**changes: Any) -> tuple[Any, ...]:
    """A session's row as the driver's values converted by the columns' types."""
    values: dict[str, Any] = {
        "id": "s1",
        "website_id": "w1",
        "state": "permanent",
        "created_at": AT,
        "last_access_at": AT + timedelta(minutes=3),
        "ip": "203.0.113.7",
        "ip_seen_at": AT,
        "user_agent": "Mozilla/5.0",
        "locale": "fr-FR",
        "timezone": "Europe/Paris",
        "page_url": "https://shop.example/",
        "page_title": "Shop",
        "page_referrer": "",
        "nickname": "Ann",
        "email": "ann@example.com",
        "phone": None,
        "data": {"plan": "pro"},
        "permanent_since": AT,
        "consent_version": 2,
        "consent_at": AT,
    }
    values.update(changes)
    return tuple(values[column.name] for column in SESSION_COLUMNS)


def _built_by_constructor(row: tuple[Any, ...]) -> Session:
    values = dict(zip((c.name for c in SESSION_COLUMNS), row, strict=True))
    values["state"] = SessionState(values["state"])
    values["data"] = dict(values["data"])
    return Session(**values)


def test_the_session_codec_builds_through_a_twin() -> None:
    assert codec.session._twin is not None  # the speed this module is about is in use


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"state": "temporary", "permanent_since": None, "email": None, "nickname": None},
        {"ip": None, "ip_seen_at": None, "locale": None, "timezone": None, "data": {}},
        {"consent_version": None, "consent_at": None, "phone": "+33 1 23 45 67 89"},
    ],
)
def test_a_decoded_session_is_what_its_constructor_builds(changes: dict[str, Any]) -> None:
    row = _row(**changes)
    decoded = codec.session(row)
    expected = _built_by_constructor(row)
    assert type(decoded) is Session
    assert decoded == expected and expected == decoded
    assert repr(decoded) == repr(expected)
    for f in fields(Session):
        assert getattr(decoded, f.name) == getattr(expected, f.name)
        assert type(getattr(decoded, f.name)) is type(getattr(expected, f.name))
    assert isinstance(decoded.state, SessionState)
    assert decoded.data is not row[[c.name for c in SESSION_COLUMNS].index("data")]  # a copy


def _refusal_of(session: Session) -> BaseException:
    try:
        session.extra = 1  # type: ignore[attr-defined]
    except (AttributeError, TypeError) as refused:
        return refused
    raise AssertionError("an attribute was added to a frozen session")


def test_a_decoded_session_is_frozen_and_replaced_as_any() -> None:
    decoded = codec.session(_row())
    with pytest.raises(FrozenInstanceError):
        decoded.email = "other@example.com"  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        del decoded.nickname  # type: ignore[misc]
    # Another attribute: whatever the class's own instances do (Python 3.11's frozen slotted
    # dataclasses raise a TypeError from their `__setattr__`'s `super()`), the same.
    for session in (decoded, _built_by_constructor(_row())):
        with pytest.raises((AttributeError, TypeError)) as raised:
            session.extra = 1  # type: ignore[attr-defined]
        assert type(raised.value) is type(_refusal_of(_built_by_constructor(_row())))
    changed = replace(decoded, email=None)
    assert type(changed) is Session and changed.email is None and decoded.email is not None
    assert pickle.loads(pickle.dumps(decoded)) == decoded
    assert dataclasses.asdict(decoded) == dataclasses.asdict(_built_by_constructor(_row()))


@given(
    nickname=st.none() | st.text(max_size=20),
    email=st.none() | st.text(max_size=20),
    consent=st.none() | st.integers(min_value=0, max_value=10**6),
    data=st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5), max_size=4),
)
def test_any_session_row_decodes_as_its_constructor_builds(
    nickname: str | None, email: str | None, consent: int | None, data: dict[str, Any]
) -> None:
    row = _row(nickname=nickname, email=email, consent_version=consent, data=data)
    assert codec.session(row) == _built_by_constructor(row)


def test_other_classes_keep_their_constructor() -> None:
    # Not slotted (the website), not frozen, or with a `__post_init__`: built as before.
    assert _unfrozen_twin(Website) is None

    @dataclass(slots=True)
    class Plain:
        a: int

    @dataclass(frozen=True, slots=True)
    class Checked:
        a: int

        def __post_init__(self) -> None:
            if self.a < 0:
                raise ValueError("negative")

    @dataclass(frozen=True, slots=True)
    class Derived:
        a: int
        b: int = field(init=False, default=0)

    assert _unfrozen_twin(Plain) is None
    assert _unfrozen_twin(Checked) is None
    assert _unfrozen_twin(Derived) is None


def test_a_twin_keeps_defaults_and_a_codec_of_some_fields_uses_the_constructor() -> None:
    @dataclass(frozen=True, slots=True)
    class Pair:
        a: int
        b: list[int] = field(default_factory=list)

    twin = _unfrozen_twin(Pair)
    assert twin is not None
    built = twin(1)
    built.__class__ = Pair
    assert built == Pair(1) and built.b == []
    # A codec reading only some of the fields builds through the class itself.
    partial = Codec(Session, SESSION_COLUMNS[:13])
    assert partial._twin is None
