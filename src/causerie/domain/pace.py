"""How fast each network has been sending requests to this node lately: a count per key that
halves every `half_life` seconds, read as requests per second.

The shield's gate (`web/shield_gate.py`) asks it only while the node is busy, to let the
networks that send little (people) go before those that send much (a botnet's closed loops, a
busy office). It is this node's view alone, in memory: a scheduling decision, not a verdict.
"""

from __future__ import annotations

import math

_LN2 = math.log(2)


class Pace:
    def __init__(self, half_life: float = 2.0, keys: int = 10_000) -> None:
        self.half_life = half_life
        self.keys = keys  # past this many, the keys gone quiet are forgotten
        self._seen: dict[str, tuple[float, float]] = {}  # key -> (decayed count, at)

    def hit(self, key: str, now: float) -> float:
        """Count one request of `key` at `now` (seconds); its pace, in requests per second."""
        count, at = self._seen.get(key, (0.0, now))
        if now > at:
            count *= 0.5 ** ((now - at) / self.half_life)
        count += 1
        self._seen[key] = (count, max(now, at))
        if len(self._seen) > self.keys:
            self._forget(now)
        return count * _LN2 / self.half_life

    def _forget(self, now: float) -> None:
        """Keep the keys still sending: a count decayed under one request is a quiet key."""
        self._seen = {
            key: (count, at)
            for key, (count, at) in self._seen.items()
            if count * 0.5 ** ((now - at) / self.half_life) >= 1
        }
