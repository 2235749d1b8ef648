"""`collector_paused` and `started_server` (server.py): the objects a server builds at start, and
those its lifespan makes as it starts, are set apart from the garbage collector's generations, so
that no later collection walks them again."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import threading
import time

import uvicorn

from causerie.app import create_app
from causerie.clock import ManualClock
from causerie.server import (
    FULL_COLLECTION_AFTER,
    MIDDLE_COLLECTION_AFTER,
    collector_paused,
    imports_uncollected,
    started_server,
    uvicorn_options,
)
from causerie.settings import Settings
from tests.support import CLI_TIMEOUT


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


def test_imports_uncollected_pauses_the_collector_and_leaves_it_as_it_was() -> None:
    thresholds = gc.get_threshold()
    try:
        with imports_uncollected():
            assert not gc.isenabled()
            imported: list[object] = []
            imported.append(imported)  # a cycle, as classes and modules make
        assert gc.isenabled()
        assert not _in_generations(imported)  # frozen: no collection walks it again
        assert gc.get_threshold() == thresholds
        gc.disable()
        with imports_uncollected():
            pass
        assert not gc.isenabled()  # paused by its caller: still paused
    finally:
        gc.enable()
        gc.unfreeze()  # the other tests of this process keep the usual collector


# A fresh process counts the collections while the command's modules are imported.
_CLI_IMPORT = """
import gc, json, sys
import causerie.server
counted = []
gc.callbacks.append(lambda phase, info: counted.append(phase) if phase == "stop" else None)
import causerie.cli
young = gc.get_count()[0]
print(json.dumps({"collections": len(counted), "enabled": gc.isenabled(), "young": young,
                  "modules": sum(name.startswith("causerie.") for name in sys.modules)}))
"""


def test_the_command_line_imports_its_modules_with_the_collector_paused() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _CLI_IMPORT],
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        check=True,
    )
    found = json.loads(done.stdout.splitlines()[-1])
    assert found["modules"] > 100  # the commands' modules were imported then (about 180)
    assert found["collections"] == 0  # about 170 without the pause
    assert found["young"] < 700  # frozen: the next young collection will not walk them all
    assert found["enabled"]
