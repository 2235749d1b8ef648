"""`collector_paused` (server.py): the objects a server builds at start are set apart from the
garbage collector's generations, so that no later collection walks them again."""

from __future__ import annotations

import gc

from causerie.server import FULL_COLLECTION_AFTER, collector_paused


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
        # Young and middle collections as before; full ones rarer.
        assert gc.get_threshold() == (*thresholds[:2], FULL_COLLECTION_AFTER)
    finally:
        gc.unfreeze()  # the other tests of this process keep the usual collector
        gc.set_threshold(*thresholds)
