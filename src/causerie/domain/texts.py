"""What a visitor types, as it is kept and shown (docs/api.md, "Visitor texts").

A message loses its control characters but tab and line breaks (C0, DEL, C1: an ESC sequence
pasted from a terminal, a bell) and keeps its bidi marks, which right-to-left languages need.
A name loses every control and the bidi marks, embeddings, overrides and isolates, as a file's
name does (`actions.files.clean_name`): U+202E could turn the name an agent reads around.
"""

from __future__ import annotations

import re

# NUL is refused before an action runs (422 naming the field); dropped here too for the paths
# that do not refuse it (a mail).
_BODY_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Control characters (C0, DEL, C1: what the bytes of a name not in UTF-8 decode to) and the bidi
# marks, embeddings, overrides and isolates, which could turn the name shown around.
UNSAFE_IN_NAME = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAME_SPACES = re.compile(r"[\t\n\r\x0b\x0c\x1c-\x1f\x85\u2028\u2029]")


def message_text(body: str) -> str:
    """A message's body without its control characters (tab, `\\n` and `\\r` kept)."""
    return _BODY_CONTROLS.sub("", body) if _BODY_CONTROLS.search(body) else body


def name_text(name: str) -> str:
    """A name shown to agents: line breaks and tabs as spaces, controls and bidi characters
    removed."""
    return UNSAFE_IN_NAME.sub("", _NAME_SPACES.sub(" ", name))
