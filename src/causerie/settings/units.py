"""Settings written with a unit or a word: durations, sizes, rates, counts and switches.

Each parser takes the setting's text and raises ValueError with what was expected; the loader
puts the setting's name and source in front (docs/settings.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any, TypeVar

from pydantic import PlainValidator

T = TypeVar("T")

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_SIZE = re.compile(r"^\s*(\d+)\s*(B|KiB|MiB)?\s*$")
_BYTES = {None: 1, "B": 1, "KiB": 1024, "MiB": 1024 * 1024}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(s|m)\s*$")
_PAUSE = re.compile(r"^\s*(\d+)\s*(ms|s)?\s*$")
PAUSE_AT_MOST = 60.0  # seconds: a longer pause would only hold connections open
# The longest duration: 100 years. Past it a date computed from the clock (`now - retention`,
# `now + delay`) ran off the calendar, and the command died with a traceback, not a message;
# `forever` says "never" where a setting allows it.
DURATION_AT_MOST = timedelta(days=36500)


def from_text(parse: Callable[[str], T]) -> PlainValidator:
    """A pydantic validator that gives a setting's text, and only text, to `parse`."""

    def validate(value: Any) -> T:
        if not isinstance(value, str):
            raise ValueError(f"expected text, not {type(value).__name__}")
        return parse(value)

    return PlainValidator(validate)


def parse_duration(text: str, *, allow_forever: bool = False) -> timedelta | None:
    """`90s`, `30m`, `12h`, `182d`; `forever` (returned as None) where allowed."""
    if allow_forever and text.strip() == "forever":
        return None
    return _duration(text, hint=", or 'forever'" if allow_forever else "")


def _duration(text: str, hint: str = "") -> timedelta:
    match = _DURATION.match(text)
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"expected a positive number and a unit s, m, h or d (e.g. 30m){hint}")
    seconds = int(match.group(1)) * _SECONDS[match.group(2)]
    if seconds > DURATION_AT_MOST.total_seconds():
        raise ValueError(f"expected at most {DURATION_AT_MOST.days}d (100 years){hint}")
    return timedelta(seconds=seconds)


def parse_size(text: str, *, at_most: int | None = None) -> int:
    """Bytes from `2048`, `512B`, `64KiB` or `10MiB`; past `at_most`, if given, refused."""
    match = _SIZE.match(text)
    digits = match.group(1).lstrip("0") if match else ""
    if not match or not digits:
        raise ValueError("expected a positive size such as 64KiB or 1MiB")
    # Compared by length first: a number of thousands of digits is never converted.
    if at_most is not None and (
        len(digits) > len(str(at_most)) or int(digits) * _BYTES[match.group(2)] > at_most
    ):
        raise ValueError(f"expected at most {_shown(at_most)}")
    return int(digits) * _BYTES[match.group(2)]


def size_between(floor: int, ceiling: int, why: str, why_ceiling: str) -> Callable[[str], int]:
    """A parser of sizes from `floor` bytes (less would leave Causerie unusable, as `why` says)
    to `ceiling` (more would let one request hold that much, as `why_ceiling` says)."""

    def parse(text: str) -> int:
        try:
            size = parse_size(text, at_most=ceiling)
        except ValueError as exc:
            if str(exc).startswith("expected at most"):
                raise ValueError(f"{exc} ({ceiling} bytes): {why_ceiling}") from None
            raise
        if size < floor:
            raise ValueError(f"expected at least {_shown(floor)} ({floor} bytes): {why}")
        return size

    return parse


def _shown(size: int) -> str:
    for unit in ("MiB", "KiB"):
        if size % _BYTES[unit] == 0:
            return f"{size // _BYTES[unit]}{unit}"
    return f"{size}B"


def parse_rate(text: str) -> float:
    """Events per second from `20/s` or `600/m`."""
    match = _RATE.match(text)
    if not match or int(match.group(1)) == 0:
        raise ValueError("expected a rate such as 20/s or 600/m")
    return int(match.group(1)) / (1 if match.group(2) == "s" else 60)


def parse_pause(text: str) -> float:
    """Seconds from `2s`, `500ms`, or `0` for none."""
    match = _PAUSE.match(text)
    if not match or (match.group(2) is None and int(match.group(1)) != 0):
        raise ValueError("expected a pause such as 2s or 500ms, or 0 for none")
    seconds = int(match.group(1)) / (1000 if match.group(2) == "ms" else 1)
    if seconds > PAUSE_AT_MOST:
        raise ValueError(f"expected a pause of at most {PAUSE_AT_MOST:.0f}s")
    return seconds


def parse_count(text: str) -> int:
    if not text.strip().isdigit() or int(text) == 0:
        raise ValueError("expected a positive whole number")
    return int(text)


def _bits(text: str) -> int:
    value = parse_count(text)
    if value > 24:
        raise ValueError("expected a whole number from 1 to 24")
    return value


def parse_switch(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true or false")


Duration = Annotated[timedelta, from_text(_duration)]
# A retention that may be `forever` (None).
Retention = Annotated[
    timedelta | None, from_text(lambda text: parse_duration(text, allow_forever=True))
]
Rate = Annotated[float, from_text(parse_rate)]  # per second
Pause = Annotated[float, from_text(parse_pause)]  # seconds, 0 for none
Count = Annotated[int, from_text(parse_count)]
Bits = Annotated[int, from_text(_bits)]  # 1 to 24
Switch = Annotated[bool, from_text(parse_switch)]
