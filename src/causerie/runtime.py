"""The services every action works with, built once by `app.py` or the CLI and passed along."""

from __future__ import annotations

from dataclasses import dataclass, field

from causerie.clock import Clock
from causerie.domain.ports import Store
from causerie.presence import Presence
from causerie.settings import Settings


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    store: Store
    clock: Clock
    presence: Presence = field(default_factory=Presence)
