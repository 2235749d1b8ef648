"""Contracts of SPEC.md's second wave checked by small client programs written from it (fifth
outside audit, branch audit5, 2026-12-07): files, webhooks, push, mail, reports, blocks, jobs.

Clients written from SPEC.md alone, over a real server's sockets, found these (each test fails
before its fix): a webhook URL or a push endpoint whose host held a space (`http://exa mple.com/`)
was stored, to fail at every delivery for a day; block rules no visitor could match
(`*@spam.example`, `name@`, `fe80::1%eth0`) were stored and blocked no one; a file name cut to
255 characters lost its extension, and one too long for a multipart header got "Invalid multipart
data."; `causerie jobs retry` refused for good a job left running by a node that died; a push
subscription's `expirationTime` of the wrong type was named as `expirationTime.int`. The
rotation test writes down a contract SPEC.md is silent on. SQLite only: transport contracts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from causerie.actions.job_kinds import KINDS
from causerie.actions.jobs import do_enqueue, do_run_due_jobs, get_jobs
from causerie.clock import ManualClock
from causerie.domain.jobs import JobState
from causerie.settings import Settings
from tests.conftest import ORIGIN, Harness, ServerThread, Site
from tests.support import Ran, invoke_cli, push_subscription
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(webhook_allow_private="true", push_allow_private="true")


def owner(site: Site) -> dict[str, str]:
    return {"Authorization": f"Bearer {site.tokens['owner']}"}


# -- targets that no delivery can reach ----------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["http://exa mple.com/hook", "https://example.com/a b", "https://exa\tmple.com/"]
)
def test_a_webhook_url_with_a_space_is_refused_naming_the_url(
    server: ServerThread, http: httpx.Client, site: Site, url: str
) -> None:
    """It was stored, and every delivery failed for a day before the webhook was disabled."""
    path = f"/api/v1/websites/{site.website_id}/webhooks"
    created = http.post(path, headers=owner(site), json={"url": url, "events": ["message.created"]})
    assert created.status_code == 422, created.text
    assert created.json()["error"]["code"] == "invalid_webhook_url"
    assert created.json()["error"]["message"].startswith("url: ")
    assert http.get(path, headers=owner(site)).json()["webhooks"] == []


def test_a_push_endpoint_with_a_space_is_refused_naming_the_endpoint(
    server: ServerThread, http: httpx.Client, site: Site
) -> None:
    path = "/api/v1/push/subscriptions"
    created = http.post(
        path, headers=owner(site), json=push_subscription("https://push.ex ample/a")
    )
    assert created.status_code == 422, created.text
    assert created.json()["error"]["code"] == "invalid_subscription"
    assert created.json()["error"]["message"].startswith("endpoint: ")
    assert http.get(path, headers=owner(site)).json()["subscriptions"] == []
    fine = http.post(path, headers=owner(site), json=push_subscription("https://push.example/a"))
    assert fine.status_code == 201, fine.text


# -- block rules that could never match ----------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("email", "*@spam.example"),
        ("email", "someone@"),
        ("email", "a@b@spam.example"),
        ("email", "some one@spam.example"),
        ("address", "fe80::1%eth0"),
    ],
)
def test_a_block_rule_no_visitor_could_match_is_refused_naming_the_value(
    server: ServerThread, http: httpx.Client, site: Site, kind: str, value: str
) -> None:
    """`*@spam.example` (the user-agent rules take `*`) was stored and blocked no one."""
    path = f"/api/v1/websites/{site.website_id}/blocks"
    added = http.post(
        path, headers=owner(site), json={"kind": kind, "value": value, "reason": "spam"}
    )
    assert added.status_code == 422, added.text
    assert added.json()["error"]["code"] == "invalid_block_value"
    assert added.json()["error"]["message"].startswith("value: ")
    assert http.get(path, headers=owner(site)).json()["blocks"] == []


def test_a_domain_rule_blocks_the_domain_and_a_whole_address_blocks_that_address(
    server: ServerThread, http: httpx.Client, site: Site
) -> None:
    path = f"/api/v1/websites/{site.website_id}/blocks"
    for value in ("@Spam.example", "Someone@Other.example"):
        added = http.post(
            path, headers=owner(site), json={"kind": "email", "value": value, "reason": "spam"}
        )
        assert added.status_code == 201, added.text
    opened = http.post(
        f"/api/widget/v1/websites/{site.website_id}/session",
        json={"page": {"url": f"{ORIGIN}/"}},
        headers={"Origin": ORIGIN},
    )
    visitor = {"Authorization": f"Bearer {opened.json()['token']}", "Origin": ORIGIN}
    for email, status in (
        ("a@spam.example", 403),
        ("someone@other.example", 403),
        ("else@other.example", 200),
    ):
        answer = http.patch(
            "/api/widget/v1/session/profile", headers=visitor, json={"email": email}
        )
        assert answer.status_code == status, (email, answer.text)


# -- files ---------------------------------------------------------------------------------------


def test_a_file_name_too_long_for_a_multipart_header_is_named_as_the_cause(
    server: ServerThread, http: httpx.Client, site: Site
) -> None:
    """It was "the body is not valid multipart/form-data: Invalid multipart data.": nothing
    said the name was to blame. A long name that fits is cut to 255 characters, before its
    extension (it lost it: the download had no extension)."""
    opened = http.post(
        f"/api/widget/v1/websites/{site.website_id}/session",
        json={"page": {"url": f"{ORIGIN}/"}},
        headers={"Origin": ORIGIN},
    )
    visitor = {"Authorization": f"Bearer {opened.json()['token']}", "Origin": ORIGIN}
    path = "/api/widget/v1/session/files"
    fits = http.post(path, headers=visitor, files={"file": ("n" * 3000 + ".txt", b"hello")})
    assert fits.status_code == 201, fits.text
    assert fits.json()["message"]["file"]["name"] == "n" * 251 + ".txt"  # its extension kept
    refused = http.post(path, headers=visitor, files={"file": ("n" * 5000 + ".txt", b"hello")})
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["code"] == "invalid_multipart"
    assert "shorter file name" in refused.json()["error"]["message"]


# -- jobs ----------------------------------------------------------------------------------------


def test_jobs_retry_runs_a_job_whose_node_died_and_refuses_one_still_running(
    harness: Harness, clock: ManualClock
) -> None:
    """A job left `running` by a node that died was refused as "running now" for good by
    `causerie jobs retry`, though no node ran it."""
    rt = harness.rt

    async def enqueue_and_claim() -> str:
        async with rt.store.transaction() as tx:
            job_id = await do_enqueue(rt, tx, "audit5")
        async with rt.store.transaction() as tx:
            await tx.jobs.claim(clock.now(), clock.now() + rt.settings.job_lease, 10)
        return job_id

    job_id = harness.run(enqueue_and_claim())
    live = harness.run(get_jobs(rt, JobState.RUNNING))
    assert [job.id for job in live] == [job_id]
    env = {**os.environ, "CAUSERIE_DATA_DIR": str(rt.settings.data_dir),
           "CAUSERIE_DATABASE_URL": rt.settings.database_url}  # fmt: skip

    def retry() -> Ran:
        """`causerie jobs retry` in this process (tests/support.py invoke_cli: this environment,
        stdin empty), as a subprocess would run it."""
        return invoke_cli("jobs", "retry", job_id, env=env, cwd=Path.cwd())

    # The CLI reads the real time: the lease is set on it (naive UTC, as SQLite's rows hold it).
    lease = "UPDATE jobs SET lease_until = :until WHERE id = :id"
    now = datetime.now(UTC).replace(tzinfo=None)
    harness.execute(lease, until=now + timedelta(hours=1), id=job_id)
    refused = retry()
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1, refused.stderr
    assert "running now" in refused.stderr

    harness.execute(lease, until=now - timedelta(seconds=1), id=job_id)
    taken = retry()
    assert taken.returncode == 0, taken.stderr
    (job,) = [j for j in harness.run(get_jobs(rt, None)) if j.id == job_id]
    assert (job.state, job.attempts) == (JobState.QUEUED, 0)


# -- webhooks ------------------------------------------------------------------------------------


def _signs(secret: str, headers: dict[str, str], body: str) -> bool:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.{body}".encode()
    mac = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return f"v1,{mac}" in headers["webhook-signature"].split()


def test_two_rotations_leave_the_two_latest_secrets_signing(
    server: ServerThread, http: httpx.Client, harness: Harness, site: Site
) -> None:
    """docs/api.md, rotate: written from what the server does (SPEC.md is silent)."""
    receiver = Receiver()
    try:
        created = http.post(
            f"/api/v1/websites/{site.website_id}/webhooks",
            headers=owner(site),
            json={"url": receiver.url, "events": ["message.created"]},
        ).json()
        rotate = f"/api/v1/webhooks/{created['webhook']['id']}/rotate"
        second = http.post(rotate, headers=owner(site)).json()["secret"]
        third = http.post(rotate, headers=owner(site)).json()["secret"]
        opened = http.post(
            f"/api/widget/v1/websites/{site.website_id}/session",
            json={"page": {"url": f"{ORIGIN}/"}},
            headers={"Origin": ORIGIN},
        )
        visitor = {"Authorization": f"Bearer {opened.json()['token']}", "Origin": ORIGIN}
        sent = http.post(
            "/api/widget/v1/session/messages",
            headers=visitor,
            json={"client_id": "c1", "type": "text", "body": "Hello"},
        )
        assert sent.status_code == 201, sent.text
        harness.run(do_run_due_jobs(harness.rt, KINDS))
        ((headers, body),) = receiver.requests
        assert len(headers["webhook-signature"].split()) == 2
        assert _signs(third, headers, body) and _signs(second, headers, body)
        assert not _signs(created["secret"], headers, body)
    finally:
        receiver.close()


@pytest.mark.parametrize("expiration", ["soon", True, [1]])
def test_a_push_expiration_that_is_no_number_is_named_as_the_field(
    server: ServerThread, http: httpx.Client, site: Site, expiration: object
) -> None:
    """It was "expirationTime.int: ...; expirationTime.float: ...": the union's members."""
    body = {**push_subscription("https://push.example/a"), "expirationTime": expiration}
    refused = http.post("/api/v1/push/subscriptions", headers=owner(site), json=body)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["message"] == "expirationTime: Input should be a valid number"
    for milliseconds in (1796674397000, 1796674397000.5, None):
        body = {**push_subscription("https://push.example/a"), "expirationTime": milliseconds}
        taken = http.post("/api/v1/push/subscriptions", headers=owner(site), json=body)
        assert taken.status_code == 201, taken.text
