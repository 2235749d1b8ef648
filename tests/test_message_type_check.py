"""`check_message` finds a message's type by a dict's look-up (docs/performance.md, `relay5`):
the same answers as calling the enum, for any value a frame or a body may hold."""

from __future__ import annotations

from typing import Any

import pytest

from causerie.actions.messages import check_message
from causerie.domain.errors import Invalid
from causerie.domain.models import MessageType

ALL = frozenset(MessageType)


@pytest.mark.parametrize("type_", ["text", "file", "note", MessageType.NOTE])
def test_a_known_type_is_its_member(type_: Any) -> None:
    assert check_message("c1", "hello", type_, ALL) is MessageType(type_)


@pytest.mark.parametrize("type_", ["TEXT", "", "txt", 1, None, ["text"], {"text": 1}, 1.5])
def test_anything_else_is_an_invalid_type(type_: Any) -> None:
    with pytest.raises(Invalid) as refused:
        check_message("c1", "hello", type_, ALL)
    assert refused.value.code == "invalid_message_type"


def test_a_type_not_allowed_here_is_invalid() -> None:
    with pytest.raises(Invalid) as refused:
        check_message("c1", "hello", "note", frozenset({MessageType.TEXT}))
    assert refused.value.code == "invalid_message_type"
