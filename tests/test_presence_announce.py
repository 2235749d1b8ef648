"""A node repairs availability that an outage of the presence store kept visitors from hearing."""

from __future__ import annotations

from typing import Any

from causerie.actions.presence import do_announce_availability
from tests.conftest import Harness, Site


def test_availability_changes_missed_during_an_outage_are_announced_once(
    harness: Harness, site: Site
) -> None:
    published: list[tuple[str, dict[str, Any]]] = []
    harness.rt.hub.publish = lambda channel, frame: published.append((channel, frame))  # type: ignore[method-assign]
    rt, announced = harness.rt, {site.website_id: False}
    # The agent's entry reached the presence store only at the refresh after the outage.
    harness.run(rt.presence.set_agent(site.website_id, "conn-1", "online"))
    harness.run(do_announce_availability(rt, [site.website_id], announced))
    harness.run(do_announce_availability(rt, [site.website_id], announced))
    channel = f"presence:{site.website_id}"
    assert published == [(channel, {"type": "presence", "seq": None, "online": True})]
    harness.run(rt.presence.set_agent(site.website_id, "conn-1", None))
    harness.run(do_announce_availability(rt, [site.website_id], announced))
    assert published[-1] == (channel, {"type": "presence", "seq": None, "online": False})
    harness.run(do_announce_availability(rt, [], announced))
    assert announced == {}
