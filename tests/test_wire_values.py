"""`wire_values.scan_of`: a JSON document whose bytes cannot hold a fault skips the walk over its
values, and every document that holds one is still walked (and refused by `parse_json`)."""

from __future__ import annotations

import json
import random

import pytest

from causerie.web.body import parse_json
from causerie.web.errors import ApiError
from causerie.web.schemas import ProfileIn
from causerie.web.wire_values import fault, scan_of

FAULTY = [
    b'{"data": {"x": "\\u0000"}}',
    b'{"data": {"x\\u0000": 1}}',
    b'{"data": {"x": "\\ud800"}}',
    b'{"data": {"x": 9007199254740993}}',
    b'{"data": {"x": -12345678901234567890}}',
    b'{"data": {"x": 1e999}}',
    b'{"data": {"x": -2.5E400}}',
    b'{"data": {"x": NaN}}',
    b'{"data": {"x": -Infinity}}',
    b'{"data": {"x": ' + b"9" * 400 + b".5}}",
]


@pytest.mark.parametrize("raw", FAULTY)
def test_a_document_with_a_fault_is_walked_and_refused(raw: bytes) -> None:
    assert scan_of(raw) == {}
    with pytest.raises(ApiError) as refused:
        parse_json(raw, ProfileIn)
    assert refused.value.status in (400, 422)  # a lone surrogate's escape is not JSON to pydantic


def test_a_plain_chatbox_load_is_not_walked() -> None:
    raw = json.dumps(
        {"token": "abc-DEF_123", "page": {"url": "https://shop.example/p?id=42", "title": "Shop"}}
    ).encode()
    assert scan_of(raw) != {}


def test_whatever_is_not_walked_has_no_fault() -> None:
    chosen = random.Random(11)
    alphabet = ["ab", "e", "E", "0123456789", "\\", "\x00", "\ud800", "é", "😀", "NaN", "Infinity"]
    skipped = 0
    for _ in range(3000):
        text = "".join(chosen.choice(alphabet) for _ in range(chosen.randint(0, 6)))
        number = chosen.choice(
            [
                chosen.randint(-(2**60), 2**60),
                chosen.randint(-1000, 1000),
                round(chosen.uniform(-1e6, 1e6), chosen.randint(0, 4)),
                chosen.uniform(-1e20, 1e20),
                chosen.random() * 10 ** chosen.randint(-30, 30),
                2**53,
                -(2**53),
            ]
        )
        value = {"data": {text: [text, number]}}
        raw = json.dumps(value, ensure_ascii=chosen.random() < 0.5).encode("utf-8", "surrogatepass")
        if scan_of(raw):
            skipped += 1
            try:  # what the server would have accepted, had it not walked it
                accepted = parse_json(raw, ProfileIn)
            except ApiError as refused:  # bytes that are not JSON (a raw surrogate): refused
                assert refused.status == 400, raw
            else:
                assert fault(accepted.data) is None, raw
    assert skipped > 100  # the rule does spare most ordinary documents
