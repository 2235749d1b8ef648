"""What a visitor's unsubscribe stops (docs/notifications.md, "What a mail looks like"): the
mails Causerie sends on its own about her conversation, not the transcript she asks for
afterwards (audit15: the contract did not say)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from causerie.actions.mail import do_request_transcript, do_unsubscribe
from causerie.actions.messages import do_send_session_message
from causerie.actions.profiles import do_update_visitor_profile
from causerie.actions.sessions import do_open_session
from causerie.clock import ManualClock
from causerie.domain.models import PageView
from tests import mail_support
from tests.conftest import ORIGIN, Harness, Site
from tests.mail_support import Sink, reply, run_due

sink_port = mail_support.sink_port
sink = mail_support.sink
settings = mail_support.settings

ZOE = "zoe@visitor.example"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_unsubscribed_visitor_gets_no_replies_but_the_transcript_she_asks_for(
    harness: Harness, site: Site, sink: Sink, clock: ManualClock
) -> None:
    async def opened() -> tuple[str, str]:
        rt = harness.rt
        o = await do_open_session(
            rt, website_id=site.website_id, token=None, page=PageView(url=f"{ORIGIN}/"),
            ip="198.51.100.7", origin=ORIGIN,
        )  # fmt: skip
        await do_send_session_message(rt, o.session.id, client_id="v1", body="Hello")
        await do_update_visitor_profile(rt, token=o.token, origin=ORIGIN, email=ZOE)
        return o.session.id, o.token

    session_id, token = harness.run(opened())
    reply(harness, site, session_id, "First answer")
    clock.advance(timedelta(minutes=3))
    run_due(harness)
    (first,) = sink.to(ZOE)
    link = str(first["List-Unsubscribe"]).strip("<>")
    harness.run(do_unsubscribe(harness.rt, link.rsplit("/", 1)[1]))

    reply(harness, site, session_id, "Second answer")
    clock.advance(timedelta(minutes=3))
    run_due(harness)
    assert len(sink.to(ZOE)) == 1  # the agents' replies: stopped

    harness.run(do_request_transcript(harness.rt, token=token, origin=ORIGIN))
    run_due(harness)
    transcript = sink.to(ZOE)[-1]
    assert len(sink.to(ZOE)) == 2 and "conversation with" in str(transcript["Subject"])
