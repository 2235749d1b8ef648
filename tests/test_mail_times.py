"""The times a mail shows beside each message (docs/notifications.md, "What a mail looks like"):
a visitor's in the time zone their browser reported, else UTC, always named (audit15)."""

from __future__ import annotations

import pytest

from causerie.actions.mail import do_request_transcript
from causerie.actions.messages import do_send_session_message
from causerie.actions.profiles import do_update_visitor_profile
from causerie.actions.sessions import do_open_session
from causerie.domain.models import PageView
from tests import mail_support
from tests.conftest import ORIGIN, Harness, Site
from tests.mail_support import Sink, run_due

sink_port = mail_support.sink_port
sink = mail_support.sink
settings = mail_support.settings


def _transcript(harness: Harness, site: Site, sink: Sink, zone: str | None, to: str) -> str:
    async def ask() -> None:
        rt = harness.rt
        opened = await do_open_session(
            rt, website_id=site.website_id, token=None,
            page=PageView(url=f"{ORIGIN}/", timezone=zone), ip="198.51.100.7", origin=ORIGIN,
        )  # fmt: skip
        await do_send_session_message(rt, opened.session.id, client_id="v1", body="Hello")
        await do_update_visitor_profile(rt, token=opened.token, origin=ORIGIN, email=to)
        await do_request_transcript(rt, token=opened.token, origin=ORIGIN)

    harness.run(ask())
    run_due(harness)
    (mail,) = sink.to(to)
    text = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert text is not None and html is not None
    return str(text.get_content()) + str(html.get_content())


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_transcript_shows_the_visitors_own_time_not_utc(
    harness: Harness, site: Site, sink: Sink
) -> None:
    """A visitor in Paris read "2026-01-01 12:00 UTC" beside a message she wrote at 13:00."""
    both = _transcript(harness, site, sink, "Europe/Paris", "paris@visitor.example")
    assert "(2026-01-01 13:00 Europe/Paris):" in both
    assert "2026-01-01 13:00 Europe/Paris</span>" in both
    assert "UTC" not in both


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_transcript_without_the_visitors_zone_shows_utc(
    harness: Harness, site: Site, sink: Sink
) -> None:
    both = _transcript(harness, site, sink, None, "nozone@visitor.example")
    assert "(2026-01-01 12:00 UTC):" in both
