"""Fixed windows: the index of the window a time falls in, and when that window ends."""

from __future__ import annotations

from datetime import datetime, timedelta


def window_of(now: datetime, window: timedelta) -> int:
    return int(now.timestamp() // window.total_seconds())


def window_end(now: datetime, window: timedelta) -> float:
    """Seconds from `now` until its window ends (what `Retry-After` tells a client)."""
    seconds = window.total_seconds()
    return (window_of(now, window) + 1) * seconds - now.timestamp()
