"""Frames encoded once (domain/events.py): a payload's JSON spliced into each frame that carries
it is exactly the frame encoded whole, the hub reads a frame's seq without decoding it, and a
message's JSON encoded by orjson (`encode_plain`) is exactly `encode`'s."""

from __future__ import annotations

import json
from typing import Any

import pytest

from causerie.domain.events import Envelope, EventType, encode, encode_plain, frame, frame_text

PAYLOADS: list[dict[str, Any]] = [
    {},
    {"message": {"id": "m1", "body": "hello", "client_id": "c-1", "event": None}},
    {"message": {"body": 'quotes " and \\ and é 😀 \u2028 \n', "seq": 12, "type": "x"}},
    {"conversation_id": "c", "up_to": "m"},
]


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("seq", [1, 7, 12_345_678_901])
def test_a_frame_from_its_payloads_text_is_the_frame_encoded_whole(
    payload: dict[str, Any], seq: int
) -> None:
    for type_ in (EventType.MESSAGE_CREATED, EventType.READ, EventType.WEBHOOK_DISABLED):
        spliced = frame_text(type_, seq, encode(payload))
        assert spliced == encode(frame(type_, seq, **payload))
        assert json.loads(spliced) == {"type": type_.value, "seq": seq, **payload}


@pytest.mark.parametrize("payload", PAYLOADS)
def test_an_envelope_reads_the_seq_from_the_frames_head(payload: dict[str, Any]) -> None:
    text = frame_text(EventType.MESSAGE_CREATED, 42, encode(payload))
    envelope = Envelope.of(text)
    assert (envelope.seq, envelope.text) == (42, text)
    assert envelope.frame == json.loads(text)  # decoded when asked for
    ephemeral = Envelope.of(encode({"type": "typing", "seq": None, "on": True, "seq_x": 3}))
    assert ephemeral.seq is None
    assert ephemeral.frame["on"] is True


def test_a_frame_of_another_shape_is_decoded_to_find_its_seq() -> None:
    # Keys in another order (another node's encoder, spaces): the seq still comes right.
    for text, seq in (
        ('{"seq": 5, "type": "message.created"}', 5),
        ('{"type": "read", "seq": 6}', 6),
        ('{"seq":null,"type":"presence"}', None),
        ('{"type":"read","x":"\\"seq\\":9,","seq":3}', 3),
    ):
        envelope = Envelope.of(text)
        assert envelope.seq == seq, text
        assert envelope.frame == json.loads(text)


@pytest.mark.parametrize(
    "value",
    [
        *PAYLOADS,
        "".join(chr(code) for code in range(128)),  # controls and DEL: escaped as json does
        {"body": "é 😀 \u2028", "id": "m"},  # not ASCII: json's own escapes
        {"n": [0, -1, 2**53, 2**64, None, True, False, [], {}], "s": "x"},  # past 64 bits
        {"client_id": "c-1", "file": {"name": "a.png", "size": 1234, "width": None}},
    ],
)
def test_a_plain_values_fast_encoding_is_exactly_encode(value: Any) -> None:
    assert encode_plain(value) == encode(value)
