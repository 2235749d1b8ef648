"""Labels: a website's names and colours that agents put on conversations to sort them.

A conversation holds the ids of its labels (`Conversation.labels`, in the order they were
given); deleting a label takes it off every conversation. See docs/inbox.md "Labels".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from causerie.domain.errors import Invalid

COLOR = re.compile(r"#[0-9a-fA-F]{6}")
NAME_LENGTH = 40
PER_CONVERSATION = 20
PER_WEBSITE = 200


@dataclass(frozen=True)
class Label:
    id: str
    website_id: str
    name: str
    color: str
    created_at: datetime


def check_name(name: str) -> str:
    name = " ".join(name.split())
    if not 1 <= len(name) <= NAME_LENGTH:
        raise Invalid(f"name: 1 to {NAME_LENGTH} characters", "invalid_label_name")
    return name


def check_color(color: str) -> str:
    """`#rrggbb` (hexadecimal digits, either case); stored in lowercase."""
    if not COLOR.fullmatch(color):
        raise Invalid("color: #rrggbb, six hexadecimal digits", "invalid_color")
    return color.lower()
