"""Canned replies: a website's prepared answers, typed with `/shortcut` in the inbox's composer.

A body may hold variables, written `{name}`: `{visitor_name}`, `{agent_name}` and `{website}`,
and those the installed plugins declare (docs/plugins.md, `causerie_reply_variable_names`).
Any other `{word}` is refused when the reply is saved, so a typo never reaches a visitor; braces
around anything else (`{`, `{ }`, `{1}`) are plain text. The inbox expands the variables when it
inserts the reply for the agent to edit; a variable without a value (a visitor who gave no name)
stays as written, for the agent to see. See docs/inbox.md "Canned replies".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from causerie.domain.errors import Invalid

VARIABLES = ("visitor_name", "agent_name", "website")
SHORTCUT_LENGTH = 32
SHORTCUT = re.compile(rf"[a-z0-9][a-z0-9_-]{{0,{SHORTCUT_LENGTH - 1}}}")
VARIABLE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
TITLE_LENGTH = 100
BODY_LENGTH = 10_000  # as a message's body: an expanded reply must still fit one


@dataclass(frozen=True)
class CannedReply:
    id: str
    website_id: str
    shortcut: str
    title: str
    body: str
    created_at: datetime
    updated_at: datetime


def check_shortcut(shortcut: str) -> str:
    """Lowercase letters, digits, `-` and `_`, 1 to SHORTCUT_LENGTH, starting with a letter or
    digit."""
    if not SHORTCUT.fullmatch(shortcut):
        raise Invalid(
            f"shortcut: 1 to {SHORTCUT_LENGTH} lowercase letters, digits, '-' or '_', starting "
            "with a letter or digit",
            "invalid_shortcut",
        )
    return shortcut


def check_title(title: str) -> str:
    title = title.strip()
    if not 1 <= len(title) <= TITLE_LENGTH:
        raise Invalid(f"title: 1 to {TITLE_LENGTH} characters", "invalid_title")
    return title


def check_body(body: str, extra: Iterable[str] = ()) -> str:
    """`extra`: the variables plugins declare, accepted beside the built-in ones."""
    if not body.strip() or len(body) > BODY_LENGTH:
        raise Invalid(f"body: 1 to {BODY_LENGTH} characters, not only spaces", "invalid_body")
    names = [*VARIABLES, *sorted(set(extra) - set(VARIABLES))]
    unknown = sorted({m.group(1) for m in VARIABLE.finditer(body)} - set(names))
    if unknown:
        known = ", ".join("{" + v + "}" for v in names)
        raise Invalid(
            f"body: unknown variable {{{unknown[0]}}}; the variables are {known}",
            "unknown_variable",
        )
    return body


def expand(body: str, values: dict[str, str]) -> str:
    """The body with each variable that has a non-empty value in `values` replaced by it."""
    return VARIABLE.sub(lambda m: values.get(m.group(1)) or m.group(0), body)
