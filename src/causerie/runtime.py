"""The services every action works with, built once by `app.py` or the CLI and passed along."""

from __future__ import annotations

from dataclasses import dataclass, field

from causerie.broker.memory import MemoryBroker
from causerie.caching import TtlCache
from causerie.clock import Clock
from causerie.counters.memory import MemoryCounters
from causerie.domain.models import Website
from causerie.domain.ports import Counters, FileStore, Presence, Store
from causerie.presence.memory import MemoryPresence
from causerie.realtime.hub import Hub
from causerie.settings import Settings

WEBSITE_CACHE_SECONDS = 5.0


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    store: Store
    clock: Clock
    files: FileStore
    hub: Hub = field(default_factory=lambda: Hub(MemoryBroker()))
    presence: Presence = field(default_factory=MemoryPresence)
    counters: Counters = field(default_factory=MemoryCounters)
    websites: TtlCache[str, Website] = field(
        default_factory=lambda: TtlCache(WEBSITE_CACHE_SECONDS)
    )
