"""A body of text alone read on pydantic's fast path (web/text_bodies.py) gives what the model
with its scan gives: the same object, or the same refusal (status, code and words)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from causerie.web.body import parse_json, parse_scanned
from causerie.web.errors import ApiError
from causerie.web.schemas import ConsentIn, MessageIn, ProfileIn, SessionIn
from causerie.web.text_bodies import validate_text_body


def _outcome(read: Any, raw: bytes, model: type[BaseModel]) -> object:
    try:
        return read(raw, model)
    except ApiError as refused:
        return (refused.status, refused.code, refused.message)


def _same(raw: bytes, model: type[BaseModel]) -> None:
    assert _outcome(parse_json, raw, model) == _outcome(parse_scanned, raw, model), raw


PAGE = {"url": "https://shop.example/products/42", "title": "A product"}


@pytest.mark.parametrize(
    "raw",
    [
        json.dumps({"page": PAGE}).encode(),
        json.dumps({"token": "t" * 43, "page": PAGE, "locale": "fr-FR"}).encode(),
        json.dumps(
            {"page": PAGE, "timezone": "Europe/Paris", "proof": {"nonce": "n", "solution": "s"}}
        ).encode(),
        json.dumps({"page": {**PAGE, "title": "Café ☕ 日本"}}, ensure_ascii=False).encode(),
        # Faults: a NUL, in a value or nested; a lone surrogate escaped, or as raw bytes.
        b'{"page": {"url": "https://a.example/\\u0000"}}',
        b'{"token": "a\\u0000b", "page": {"url": "x"}}',
        b'{"page": {"url": "x"}, "homepage": "\\ud800"}',
        b'{"page": {"url": "x\xed\xa0\x80"}}',
        # Faults beside other refusals: which one is told first is the model's.
        b'{"page": {"url": 1e400}, "extra": "\\u0000"}',
        b'{"page": {"url": "x"}, "locale": 12345678901234567890}',
        b'{"page": {"url": "x", "title": NaN}}',
        b'{"nope": "\\u0000"}',
        # Refusals without faults.
        b'{"page": {"url": 42}}',
        b'{"page": {}}',
        b'{"page": {"url": "x"}, "unknown": 1}',
        b'{"page": {"url": "x"}, "timezone": "Not a zone!"}',
        b'{"page": {"url": "x"}, "token": ""}',
        b"[]",
        b"not json",
        b"",
    ],
)
def test_a_chatbox_load_body_reads_as_the_model_with_its_scan_reads_it(raw: bytes) -> None:
    _same(raw, SessionIn)


def test_only_models_of_text_alone_take_the_fast_path() -> None:
    body = json.dumps({"page": PAGE}).encode()
    assert validate_text_body(body, SessionIn) == SessionIn.model_validate_json(body)
    assert validate_text_body(b'{"client_id": "c", "body": "hi"}', MessageIn) is not None
    # A free-form dict, an integer: their values could hold a fault the twin would not see.
    assert validate_text_body(b'{"data": {"a": "b"}}', ProfileIn) is None
    assert validate_text_body(b'{"version": 1}', ConsentIn) is None


_TEXT = st.text(
    alphabet=st.one_of(st.characters(), st.sampled_from(["\x00", "\ud800", "\udfff", "é"]))
)
_VALUE = st.one_of(st.none(), _TEXT, st.integers(), st.floats(), st.booleans())


@settings(max_examples=300, deadline=None)
@given(
    token=_VALUE,
    url=_VALUE,
    title=_VALUE,
    locale=_VALUE,
    zone=st.one_of(_VALUE, st.sampled_from(["Europe/Paris", "UTC", "Mars/Base"])),
    extra=st.dictionaries(_TEXT, _VALUE, max_size=2),
)
def test_any_body_of_the_chatbox_load_reads_alike_both_ways(
    token: object, url: object, title: object, locale: object, zone: object, extra: dict[str, Any]
) -> None:
    body: dict[str, Any] = {"token": token, "page": {"url": url, "title": title}}
    body.update({"locale": locale, "timezone": zone, **extra})
    _same(json.dumps(body).encode(), SessionIn)
    _same(json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass"), SessionIn)
