"""What any value a client sends must be, whatever the field (docs/api.md, "Refused values").

One rule for every request model (`web/schemas.py`) and every WebSocket frame (`web/frames.py`):
text is Unicode that both databases and every JSON peer can hold (no NUL, which PostgreSQL
refuses; no lone surrogate, which UTF-8 cannot encode), and numbers are ones JSON peers read back
alike (finite; integers within ±2**53, what a JavaScript number holds exactly). A value that
breaks it is refused before any action runs, so nothing of it is stored.
"""

from __future__ import annotations

import math
import re
from typing import Any

from pydantic import ValidationInfo
from pydantic_core import PydanticCustomError

MAX_SAFE_INTEGER = 2**53
ERROR_TYPE = "unsafe_value"

# NUL, and UTF-16 surrogates (only ever lone in a Python str).
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


def bad_text(text: str) -> bool:
    """Whether `text` holds a NUL or a lone surrogate."""
    # Most text is ASCII, which holds no surrogate: one C-level scan for NUL is enough.
    if text.isascii():
        return "\x00" in text
    return _BAD_TEXT.search(text) is not None


def fault(value: object) -> str | None:
    """Why `value` (or a part of it, at any depth) cannot be accepted; None if it can."""
    found = _find(value, ())
    if found is None:
        return None
    path, reason = found
    return f"{'.'.join(path)}: {reason}" if path else reason


def _faulty(value: object) -> bool:
    """Whether anything in `value` breaks the rule: the fast pass, without paths. Iterative, not
    recursive: a value nested thousands deep must not raise RecursionError."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if bad_text(item):
                return True
        elif isinstance(item, dict):
            if any(isinstance(key, str) and bad_text(key) for key in item):
                return True
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
        elif isinstance(item, bool):
            continue
        elif isinstance(item, int):
            if not -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                return True
        elif isinstance(item, float) and not math.isfinite(item):
            return True
    return False


def _find(value: object, path: tuple[str, ...]) -> tuple[tuple[str, ...], str] | None:
    """The first fault in `value` and where it is (slower: run once `_faulty` found one)."""
    stack: list[tuple[object, tuple[str, ...]]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if bad_text(item):
                return where, _text_reason(item)
        elif isinstance(item, bool):
            continue
        elif isinstance(item, int):
            if abs(item) > MAX_SAFE_INTEGER:
                return where, f"integers are limited to ±{MAX_SAFE_INTEGER}"
        elif isinstance(item, float):
            if not math.isfinite(item):
                return where, "numbers must be finite (no NaN or Infinity)"
        elif isinstance(item, dict):
            for key, child in reversed(list(item.items())):
                if isinstance(key, str) and bad_text(key):
                    return where, "keys: " + _text_reason(key)
                stack.append((child, (*where, str(key))))
        elif isinstance(item, list | tuple):
            stack.extend((child, (*where, str(i))) for i, child in reversed(list(enumerate(item))))
    return None


def _text_reason(text: str) -> str:
    if "\x00" in text:
        return "text must not contain the NUL character"
    return "text must be valid Unicode (a lone surrogate is not)"


_SCANNED = "causerie.scanned"


def new_scan() -> dict[str, Any]:
    """The context for validating one body or frame: its faults are looked for once."""
    return {}


def refuse_faults(value: Any, info: ValidationInfo) -> Any:
    """A pydantic `before` model validator: the raw input, or a validation error naming the
    field (`ERROR_TYPE`, its `field` in the error's context).

    Validated with a dict as its context (`new_scan()`), a body is scanned once, whole, by its
    outermost model; the models nested in it see the mark and skip their part of it. Without a
    context every model scans its own input."""
    context = info.context
    if isinstance(context, dict):
        if context.get(_SCANNED):
            return value
        context[_SCANNED] = True
    found = _find(value, ()) if _faulty(value) else None
    if found is not None:
        path, reason = found
        field = ".".join(path) or "body"
        context = {"field": field, "reason": reason}
        raise PydanticCustomError(ERROR_TYPE, "{field}: {reason}", context)
    return value
