"""`collector_paused` and `started_server` (server.py): the objects a server builds at start, and
those its lifespan makes as it starts, are set apart from the garbage collector's generations, so
that no later collection walks them again."""

from __future__ import annotations

import gc
import threading
import time

import uvicorn

from causerie.app import create_app
from causerie.clock import ManualClock
from causerie.server import (
    FULL_COLLECTION_AFTER,
    MIDDLE_COLLECTION_AFTER,
    collector_paused,
    started_server,
    uvicorn_options,
)
from causerie.settings import Settings


def _in_generations(target: object) -> bool:
    return any(found is target for found in gc.get_objects())


def test_what_is_built_while_paused_is_frozen_and_the_collector_resumes() -> None:
    assert gc.isenabled()
    frozen_before = gc.get_freeze_count()
    thresholds = gc.get_threshold()
    try:
        with collector_paused():
            assert not gc.isenabled()
            built: list[object] = []
            built.append(built)  # a cycle, as classes and modules make
            assert _in_generations(built)
        assert gc.isenabled()
        assert gc.get_freeze_count() > frozen_before
        assert not _in_generations(built)
        later: list[object] = []
        later.append(later)
        assert _in_generations(later)  # what comes after is collected as usual
        # Young collections as before; middle ones more often (shorter), full ones rarer.
        assert gc.get_threshold() == (thresholds[0], MIDDLE_COLLECTION_AFTER, FULL_COLLECTION_AFTER)
    finally:
        gc.unfreeze()  # the other tests of this process keep the usual collector
        gc.set_threshold(*thresholds)


def test_a_started_server_freezes_what_its_start_built(settings: Settings) -> None:
    """`started_server` (what `causerie serve` runs): once the app's lifespan has opened the store
    and built the runtime, those objects are out of the collector's way too."""
    app = create_app(settings, ManualClock())
    options = {**uvicorn_options(settings), "log_config": None}
    server = started_server(uvicorn.Config(app, host="127.0.0.1", port=0, **options))
    frozen_before = gc.get_freeze_count()
    thread = threading.Thread(target=server.run, daemon=True)
    try:
        thread.start()
        deadline = time.monotonic() + 20
        # Frozen just after uvicorn's `started` is set: both waited for.
        while not (server.started and gc.get_freeze_count() > frozen_before):
            assert thread.is_alive() and time.monotonic() < deadline, "not started and frozen"
            threading.Event().wait(0.01)
        runtime = app.state.rt  # built by the lifespan, after the app
        assert gc.is_tracked(runtime)
        assert not _in_generations(runtime)
        later: list[object] = []
        later.append(later)
        assert _in_generations(later)  # what the server makes afterwards is collected as usual
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        gc.unfreeze()
