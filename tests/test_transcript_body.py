"""`POST /api/widget/v1/session/transcript` takes no body, or `{}`: it mails the conversation to
the email the visitor left (docs/api.md). A field, such as an `email` to send it elsewhere, was
ignored and the mail went to the profile's address; it is refused naming it, and nothing is
queued. Over a real socket, with a real SMTP sink."""

from __future__ import annotations

import httpx

from causerie.actions.jobs import get_jobs
from causerie.domain.jobs import JobKind
from tests import mail_support
from tests.conftest import ORIGIN, Harness, ServerThread, Site
from tests.mail_support import Sink, run_due
from tests.support import wait_until
from tests.test_errors import error_of
from tests.test_session_endpoint import open_session

# tests/mail_support.py's fixtures: the SMTP sink and the settings that mail to it
sink_port = mail_support.sink_port
sink = mail_support.sink
settings = mail_support.settings


def _transcripts(harness: Harness) -> int:
    jobs = harness.run(get_jobs(harness.rt))
    return sum(1 for job in jobs if job.kind is JobKind.MAIL_TRANSCRIPT)


def test_a_transcript_with_a_field_is_refused_naming_it_and_nothing_is_mailed(
    server: ServerThread, http: httpx.Client, site: Site, harness: Harness, sink: Sink
) -> None:
    token = open_session(http, site.website_id).json()["token"]
    visitor = {"Authorization": f"Bearer {token}", "Origin": ORIGIN}
    profile = http.patch(
        "/api/widget/v1/session/profile", json={"email": "left@v.example"}, headers=visitor
    )
    assert profile.status_code == 200, profile.text
    sent = http.post(
        "/api/widget/v1/session/messages",
        json={"client_id": "c1", "type": "text", "body": "Hello"},
        headers=visitor,
    )
    assert sent.status_code == 201, sent.text
    url = "/api/widget/v1/session/transcript"

    for body in ({"email": "elsewhere@v.example"}, {"to": "x", "format": "pdf"}):
        error = error_of(http.post(url, json=body, headers=visitor), 422)
        assert error["code"] == "invalid_request"
        assert error["message"].startswith(next(iter(body))), error
    error = error_of(http.post(url, content=b"[1]", headers=visitor), 422)
    assert error["message"] == "the body must be a JSON object"
    assert error_of(http.post(url, content=b"{", headers=visitor), 400)["code"] == "invalid_json"
    assert _transcripts(harness) == 0

    # No body (the chatbox's), or `{}`: queued, and mailed to the email left.
    for ok in ({}, {"json": {}}):
        queued = http.post(url, headers=visitor, **ok)  # type: ignore[arg-type]
        assert queued.status_code == 202, queued.text
    # The server's own job runner may claim the job first: wait for the mail, whoever sent it.
    run_due(harness)
    wait_until(
        lambda: any("conversation with" in str(m["Subject"]) for m in sink.to("left@v.example")),
        10,
        lambda: f"no transcript mailed: {sink.received!r}",
    )
    assert sink.to("elsewhere@v.example") == []
