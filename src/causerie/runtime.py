"""The services every action works with, built once by `app.py` or the CLI and passed along."""

from __future__ import annotations

from dataclasses import dataclass, field

from causerie.broker.memory import MemoryBroker
from causerie.clock import Clock
from causerie.counters.memory import MemoryCounters
from causerie.domain.ports import Counters, Presence, Store
from causerie.presence.memory import MemoryPresence
from causerie.realtime.hub import Hub
from causerie.settings import Settings


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    store: Store
    clock: Clock
    hub: Hub = field(default_factory=lambda: Hub(MemoryBroker()))
    presence: Presence = field(default_factory=MemoryPresence)
    counters: Counters = field(default_factory=MemoryCounters)
