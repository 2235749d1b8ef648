"""The services every action works with, as the domain's ports. Built once, from the settings,
by `causerie.wiring.build_runtime` for the server, every CLI command and the tests: nothing here
picks an adapter, so no caller can end up on an in-process hub that nobody else hears."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from cachetools import TTLCache

from causerie.caching import ttl_cache
from causerie.clock import Clock
from causerie.domain.mail import Mailer
from causerie.domain.models import Website
from causerie.domain.ports import (
    Aggregates,
    Batches,
    Counters,
    FileStore,
    Hub,
    Outbound,
    Presence,
    PushSender,
    Store,
)
from causerie.domain.shield import BlockRule, HeldBlock
from causerie.plugins import Plugins
from causerie.settings import Settings

WEBSITE_CACHE_SECONDS = 5.0


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    store: Store
    clock: Clock
    files: FileStore
    hub: Hub
    presence: Presence
    counters: Counters
    push: PushSender
    mailer: Mailer | None  # None: CAUSERIE_SMTP_URL unset, no mail (docs/notifications.md)
    outbound: Outbound
    plugins: Plugins
    aggregates: Aggregates
    batches: Batches  # message sends of one website stored and committed together
    websites: TTLCache[str, Website] = field(
        default_factory=lambda: ttl_cache(WEBSITE_CACHE_SECONDS)
    )
    # The block rules holding on each website (its own and the server-wide ones).
    block_rules: TTLCache[str, tuple[BlockRule, ...]] = field(
        default_factory=lambda: ttl_cache(WEBSITE_CACHE_SECONDS)
    )
    # Chatbox loads and new sessions counted on this node, per (website, UTC hour, count's
    # name), until added to the reports' rollups (actions/reports.py `do_flush_counts`).
    report_counts: dict[tuple[str, datetime, str], int] = field(default_factory=dict)
    # The shield's counts not yet handed to `aggregates`, per (network, metric, window index):
    # (count, time of the latest). actions/shield.py `count`.
    shield_counts: dict[tuple[str, str, int], tuple[int, datetime]] = field(default_factory=dict)
    # The networks this node found blocked by the automatic defence, by keyed hash: refused at
    # the door until their recheck (actions/shield.py `held_block`, web/shield_gate.py).
    shield_blocked: dict[str, HeldBlock] = field(default_factory=dict)
