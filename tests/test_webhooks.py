"""Webhooks (docs/api.md, "Webhooks"), delivered to a real HTTP receiver on loopback, on SQLite and
PostgreSQL: signatures the `standardwebhooks` verifier accepts (and a stale or altered delivery it
refuses), retries after a 500 and a timeout under the same webhook-id, rotation with both
signatures, the SSRF guard (private targets refused after resolution, nothing sent), erasure
reaching the recipients without personal data (P9, P20), the register listing each webhook (P11)
and the automatic disabling after a day of failures."""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import json
import socket
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import standardwebhooks

from causerie.actions.inbox import do_set_state
from causerie.actions.job_kinds import KINDS
from causerie.actions.jobs import do_run_due_jobs, get_jobs
from causerie.actions.messages import do_send_session_message
from causerie.actions.privacy import do_erase_subject, get_register
from causerie.actions.profiles import do_update_visitor_profile
from causerie.actions.retention import do_purge
from causerie.actions.sessions import do_open_session
from causerie.actions.webhooks import (
    do_create_webhook,
    do_redeliver,
    do_rotate_secret,
    do_update_webhook,
    get_deliveries,
    get_webhook,
)
from causerie.actions.websites import do_create_website
from causerie.clock import ManualClock
from causerie.domain.errors import Invalid
from causerie.domain.jobs import Job, JobState
from causerie.domain.models import Actor, ConversationState, PageView
from causerie.domain.targets import why_refused
from causerie.domain.webhooks import (
    Answer,
    Delivery,
    DeliveryRefused,
    DeliveryState,
    Webhook,
    WebhookEvent,
)
from causerie.domain.wire import iso
from causerie.outbound.http import HttpOutbound
from causerie.settings import Settings
from tests.conftest import ORIGIN, Harness, Site
from tests.webhook_receiver import Receiver

CLI = Actor.cli()


@pytest.fixture
def clock() -> ManualClock:
    # The verifier compares `webhook-timestamp` with the real time: start the clock there.
    return ManualClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    # The default timeout, 10 s: a receiver on this machine answers within it however loaded
    # the machine is (1 s here failed a delivery now and then under load: test_p9_p20 flaked).
    # The test of a timeout sets its own.
    return make_settings(webhook_allow_private="true")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def run_jobs(harness: Harness) -> int:
    return harness.run(do_run_due_jobs(harness.rt, KINDS))


def make_webhook(
    harness: Harness, site: Site, url: str, events: list[str] | None = None
) -> tuple[Webhook, str]:
    return harness.run(
        do_create_webhook(
            harness.rt,
            CLI,
            site.website_id,
            url=url,
            events=events or ["message.created", "conversation.created"],
        )
    )


def visitor_writes(harness: Harness, site: Site, text: str, email: str | None = None) -> str:
    """A new visitor (with `email` if given) sends `text`; the session's id."""
    rt = harness.rt

    async def run() -> str:
        opened = await do_open_session(
            rt,
            website_id=site.website_id,
            token=None,
            page=PageView(url=f"{ORIGIN}/"),
            ip="198.51.100.7",
            origin=ORIGIN,
        )
        if email is not None:
            await do_update_visitor_profile(rt, token=opened.token, origin=ORIGIN, email=email)
        await do_send_session_message(rt, opened.session.id, client_id="c1", body=text)
        return opened.session.id

    return harness.run(run())


def verify(secret: str, headers: dict[str, str], body: str) -> Any:
    return standardwebhooks.Webhook(secret).verify(body, headers)


def test_deliveries_are_signed_so_the_standard_verifier_accepts_them(
    harness: Harness, site: Site, receiver: Receiver
) -> None:
    webhook, secret = make_webhook(harness, site, receiver.url)
    assert secret.startswith("whsec_")
    visitor_writes(harness, site, "Where is my parcel?")

    run_jobs(harness)

    types = [b["type"] for b in receiver.bodies()]
    assert sorted(types) == ["conversation.created", "message.created"]
    for headers, body in receiver.requests:
        assert headers["webhook-id"].startswith("msg_")
        assert verify(secret, headers, body) == json.loads(body)
    message = next(b for b in receiver.bodies() if b["type"] == "message.created")
    assert message["data"]["message"]["body"] == "Where is my parcel?"
    assert set(message) == {"type", "timestamp", "data"}
    # The agents' WebSocket payload: the same message object.
    assert set(message["data"]["message"]) >= {"id", "conversation_id", "author", "created_at"}

    log = harness.run(get_deliveries(harness.rt, CLI, webhook.id))
    assert {d.state for d in log} == {DeliveryState.DELIVERED}
    assert all(d.status_code == 200 and d.attempts == 1 for d in log)
    assert all(d.answer_head == '{"ok": true}' and d.latency_ms is not None for d in log)


def test_a_first_message_is_told_as_conversation_created_not_also_updated(
    harness: Harness, site: Site, receiver: Receiver
) -> None:
    """The conversation it starts is `conversation.created`; the `conversation.updated` with the
    same payload that announces it to the agents' sockets was delivered too, twice the news."""
    make_webhook(harness, site, receiver.url, events=[event.value for event in WebhookEvent])
    visitor_writes(harness, site, "Where is my parcel?")
    run_jobs(harness)
    assert sorted(b["type"] for b in receiver.bodies()) == [
        "conversation.created",
        "message.created",
    ]
    # The agents' stream still announces it as an update: they have no `conversation.created`.
    assert harness.rows(
        "SELECT type FROM events WHERE stream = :s ORDER BY seq", s=f"website:{site.website_id}"
    ) == [("conversation.updated",), ("session.updated",), ("message.created",)]


def test_a_stale_or_altered_delivery_is_refused_by_the_verifier(
    harness: Harness, site: Site, receiver: Receiver, clock: ManualClock
) -> None:
    _, secret = make_webhook(harness, site, receiver.url, ["message.created"])
    visitor_writes(harness, site, "hello")
    run_jobs(harness)
    ((headers, body),) = receiver.requests
    verify(secret, headers, body)

    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        verify(secret, headers, body.replace("hello", "hullo"))
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        verify("whsec_" + "A" * 44, headers, body)
    # Replayed ten minutes later: the verifier's tolerance (5 minutes) refuses it. The clock
    # stands ten minutes back instead, as a replay would look.
    clock.advance(timedelta(minutes=-10))
    visitor_writes(harness, site, "again")
    run_jobs(harness)
    stale_headers, stale_body = receiver.requests[-1]
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError, match="too old"):
        verify(secret, stale_headers, stale_body)


def test_a_failed_delivery_is_retried_with_backoff_under_the_same_id(
    harness: Harness,
    site: Site,
    receiver: Receiver,
    clock: ManualClock,
    make_settings: Callable[..., Settings],
) -> None:
    # A node with a 1 s timeout; the receiver's late answer comes 5 s after the request, far
    # past it however late a loaded machine notices the timeout.
    hasty = dataclasses.replace(
        harness.rt, settings=make_settings(webhook_allow_private="true", webhook_timeout="1s")
    )

    def run_jobs(_: Harness) -> int:
        return harness.run(do_run_due_jobs(hasty, KINDS))

    webhook, secret = make_webhook(harness, site, receiver.url, ["message.created"])
    receiver.script = [(500, 0.0), (200, 5.0)]  # then a timeout
    visitor_writes(harness, site, "hi")

    run_jobs(harness)
    (first,) = harness.run(get_deliveries(harness.rt, CLI, webhook.id))
    assert (first.state, first.attempts, first.status_code) == (DeliveryState.PENDING, 1, 500)
    assert first.answer_head == "broken today"
    assert first.next_attempt_at == clock.now() + timedelta(seconds=10)
    assert run_jobs(harness) == 0  # not before its time

    clock.advance(timedelta(seconds=10))
    run_jobs(harness)
    (second,) = harness.run(get_deliveries(harness.rt, CLI, webhook.id))
    assert (second.state, second.attempts, second.status_code) == (DeliveryState.PENDING, 2, None)
    assert second.error == "no answer within 1 s"
    assert second.next_attempt_at == clock.now() + timedelta(seconds=20)

    clock.advance(timedelta(seconds=20))
    run_jobs(harness)
    (third,) = harness.run(get_deliveries(harness.rt, CLI, webhook.id))
    assert (third.state, third.attempts, third.status_code) == (DeliveryState.DELIVERED, 3, 200)
    ids = {headers["webhook-id"] for headers, _ in receiver.requests}
    assert len(receiver.requests) == 3 and ids == {first.id}
    assert len({body for _, body in receiver.requests}) == 1
    verify(secret, *receiver.requests[-1])

    # Redelivery: the same id and body once more.
    harness.run(do_redeliver(harness.rt, CLI, webhook.id, first.id))
    run_jobs(harness)
    assert len(receiver.requests) == 4 and receiver.requests[-1][0]["webhook-id"] == first.id


def test_rotation_signs_with_both_secrets_during_the_overlap(
    harness: Harness, site: Site, receiver: Receiver
) -> None:
    webhook, old = make_webhook(harness, site, receiver.url, ["message.created"])
    _, new = harness.run(do_rotate_secret(harness.rt, CLI, webhook.id))
    assert new != old
    visitor_writes(harness, site, "hi")
    run_jobs(harness)
    ((headers, body),) = receiver.requests
    assert len(headers["webhook-signature"].split(" ")) == 2
    verify(old, headers, body)
    verify(new, headers, body)


def _attempted_until_given_up(harness: Harness, webhook_id: str, clock: ManualClock) -> Delivery:
    """The webhook's one delivery, attempted at each retry (the clock moved to it) until it is
    given up (its 24 hours): `failed`."""
    for _ in range(40):
        run_jobs(harness)
        (delivery,) = harness.run(get_deliveries(harness.rt, CLI, webhook_id))
        if delivery.next_attempt_at is None:
            break
        clock.advance(delivery.next_attempt_at - clock.now())
    assert delivery.state is DeliveryState.FAILED
    return delivery


def test_a_day_of_failures_disables_the_webhook_and_tells_the_agents(
    harness: Harness, site: Site, receiver: Receiver, clock: ManualClock
) -> None:
    webhook, _ = make_webhook(harness, site, receiver.url, ["message.created"])
    receiver.script = [(503, 0.0)] * 100
    visitor_writes(harness, site, "hi")
    started = clock.now()
    delivery = _attempted_until_given_up(harness, webhook.id, clock)
    assert clock.now() - started == timedelta(hours=24)
    assert 10 < delivery.attempts < 25
    disabled = harness.run(get_webhook(harness.rt, CLI, webhook.id))
    assert not disabled.enabled and disabled.disabled_at == clock.now()
    notice = harness.rows(
        "SELECT type, data FROM events WHERE stream = :s ORDER BY seq DESC",
        s=f"website:{site.website_id}",
    )[0]
    assert notice[0] == "webhook.disabled" and webhook.id in str(notice[1])
    # Nothing more goes to a disabled webhook.
    sent = len(receiver.requests)
    visitor_writes(harness, site, "still there?")
    run_jobs(harness)
    assert len(receiver.requests) == sent


def test_a_redelivery_runs_the_deliverys_own_job_again(
    harness: Harness, site: Site, receiver: Receiver, clock: ManualClock
) -> None:
    """A redelivery queued a job of its own, while the job of a delivery given up stayed
    `failed`: `causerie jobs list --state failed` showed a delivery that was sent again. Now its
    own job runs again, as `causerie jobs retry` does it; so does a job still retrying."""
    webhook, _ = make_webhook(harness, site, receiver.url, ["message.created"])
    receiver.script = [(503, 0.0)] * 100
    visitor_writes(harness, site, "hi")

    def delivery_jobs() -> list[Job]:
        return [j for j in harness.run(get_jobs(harness.rt)) if j.kind == "webhook.deliver"]

    run_jobs(harness)
    (retrying,) = delivery_jobs()
    (delivery,) = harness.run(get_deliveries(harness.rt, CLI, webhook.id))
    harness.run(do_redeliver(harness.rt, CLI, webhook.id, delivery.id))  # while it retries
    (job,) = delivery_jobs()
    assert (job.id, job.state, job.attempts, job.run_at) == (
        retrying.id, JobState.QUEUED, 0, clock.now(),
    )  # fmt: skip
    delivery = _attempted_until_given_up(harness, webhook.id, clock)
    (failed,) = harness.run(get_jobs(harness.rt, JobState.FAILED))
    assert failed.id == retrying.id

    harness.run(do_update_webhook(harness.rt, CLI, webhook.id, enabled=True))
    receiver.script = []
    again = harness.run(do_redeliver(harness.rt, CLI, webhook.id, delivery.id))
    assert harness.run(get_jobs(harness.rt, JobState.FAILED)) == []
    (job,) = delivery_jobs()
    assert (job.id, job.state, job.attempts) == (retrying.id, JobState.QUEUED, 0)
    assert job.payload["window_from"] == iso(clock.now())
    sent = len(receiver.requests)
    assert run_jobs(harness) == 1
    assert len(receiver.requests) == sent + 1
    assert receiver.requests[-1][0]["webhook-id"] == again.id
    assert delivery_jobs() == []  # delivered: its job is done
    (delivered,) = harness.run(get_deliveries(harness.rt, CLI, webhook.id))
    assert delivered.state is DeliveryState.DELIVERED

    # Delivered, it has no job left: a redelivery queues one.
    harness.run(do_redeliver(harness.rt, CLI, webhook.id, delivery.id))
    assert run_jobs(harness) == 1
    assert len(receiver.requests) == sent + 2


def test_p9_p20_erasure_reaches_the_recipients_without_personal_data(
    harness: Harness, site: Site, receiver: Receiver
) -> None:
    webhook, secret = make_webhook(harness, site, receiver.url, ["message.created"])
    receiver.script = [(500, 0.0)]
    session_id = visitor_writes(harness, site, "my address is 1 rue Vieille", "zoe@example.org")
    run_jobs(harness)  # the message's delivery failed once: it waits for its retry

    harness.run(do_erase_subject(harness.rt, CLI, email="zoe@example.org"))
    assert (
        harness.scalar(
            "SELECT count(*) FROM webhook_deliveries WHERE session_id = :s", s=session_id
        )
        == 0
    )
    run_jobs(harness)

    erasures = receiver.bodies()[1:]
    assert sorted(b["type"] for b in erasures) == ["conversation.deleted", "session.erased"]
    for headers, body in receiver.requests[1:]:
        verify(secret, headers, body)
        assert "zoe" not in body and "rue Vieille" not in body and "198.51" not in body
    erased = next(b for b in erasures if b["type"] == "session.erased")
    assert erased["data"]["session_id"] == session_id
    assert set(erased["data"]) == {"session_id", "conversation_id"}
    log = harness.run(get_deliveries(harness.rt, CLI, webhook.id))
    assert [d.event_type for d in log if d.state is DeliveryState.PENDING] == []


def test_p11_every_webhook_is_a_recipient_in_the_register(
    harness: Harness, site: Site, receiver: Receiver
) -> None:
    make_webhook(harness, site, "https://hooks.crm.example/secret-path/T0K3N")
    register = harness.run(get_register(harness.rt, CLI))
    (line,) = [line for line in register.splitlines() if line.startswith("- Webhook of")]
    assert "hooks.crm.example" in line and "message.created" in line
    assert "T0K3N" not in register


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("127.0.0.1", True),
        ("10.1.2.3", True),
        ("192.168.1.1", True),
        ("169.254.169.254", True),  # cloud metadata
        ("100.64.0.1", True),  # carrier-grade NAT
        ("::1", True),
        ("fd00:ec2::254", True),  # cloud metadata over IPv6
        ("::ffff:127.0.0.1", True),
        ("224.0.0.1", True),
        ("0.0.0.0", True),
        ("93.184.215.14", False),
        ("2606:4700::1111", False),
    ],
)
def test_the_guard_refuses_every_address_that_is_not_public(address: str, refused: bool) -> None:
    assert (why_refused(ipaddress.ip_address(address)) is not None) is refused


def test_private_targets_are_refused_after_resolution_and_sent_nothing(
    make_settings: Callable[..., Settings], clock: ManualClock, receiver: Receiver
) -> None:
    strict = Harness(make_settings(), clock)  # CAUSERIE_WEBHOOK_ALLOW_PRIVATE unset
    try:
        website = strict.run(do_create_website(strict.rt, CLI, "Shop", [ORIGIN]))
        site = Site(website.id, "", {}, {}, {})
        for url in (
            receiver.url,
            "https://127.0.0.1/hook",
            "https://[::1]/",
            "https://169.254.169.254/",
        ):
            with pytest.raises(Invalid):
                make_webhook(strict, site, url)
        port = receiver.server.server_address[1]
        for url in (f"https://localhost:{port}/hook", "https://2130706433/"):
            with pytest.raises(Invalid):  # private without DNS: refused at once
                make_webhook(strict, site, url)
        # A name is resolved at each delivery (its DNS may change after the webhook is made):
        # a public-looking name stored, whose name now resolves to loopback (`localhost`).
        webhook, _ = make_webhook(strict, site, "https://hooks.example.com/", ["message.created"])
        strict.execute(
            "UPDATE webhooks SET url = :url WHERE id = :id",
            url=f"https://localhost:{port}/hook",
            id=webhook.id,
        )
        visitor_writes(strict, site, "hi")
        run_jobs(strict)
        (delivery,) = strict.run(get_deliveries(strict.rt, CLI, webhook.id))
        assert delivery.state is DeliveryState.PENDING and delivery.status_code is None
        assert delivery.error is not None and "a loopback address" in delivery.error
        assert receiver.requests == []
    finally:
        strict.close()


def test_the_connection_goes_to_the_address_that_was_checked(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One resolution per connection, and the connection made to its answer: a name that
    would answer differently the second time (DNS rebinding) is never asked twice."""
    lookups: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        lookups.append(str(host))
        if host == "rebind.example":
            return real("127.0.0.1", port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    port = receiver.server.server_address[1]
    outbound = HttpOutbound(allow_private=True)

    async def post() -> Answer:
        try:
            return await outbound.post(f"http://rebind.example:{port}/hook", {}, b"{}", 5)
        finally:
            await outbound.close()

    answer = asyncio.run(post())
    assert answer.status_code == 200
    assert lookups == ["rebind.example"]
    assert receiver.requests[0][0]["host"] == f"rebind.example:{port}"

    refused = HttpOutbound(allow_private=False)
    with pytest.raises(DeliveryRefused, match="loopback"):
        asyncio.run(refused.post(f"https://rebind.example:{port}/hook", {}, b"{}", 5))
    assert len(receiver.requests) == 1


def _example(language: str) -> str:
    text = (Path(__file__).parents[1] / "docs" / "api.md").read_text()
    section = text.split("#### Verifying a delivery", 1)[1]
    return section.split(f"```{language}\n", 1)[1].split("```", 1)[0]


def test_the_verifiers_in_the_docs_accept_a_delivery_and_refuse_an_altered_one(
    harness: Harness, site: Site, receiver: Receiver, tmp_path: Path
) -> None:
    _, secret = make_webhook(harness, site, receiver.url, ["message.created"])
    visitor_writes(harness, site, "Grüße")
    run_jobs(harness)
    ((headers, body),) = receiver.requests
    altered = body.replace("Grüße", "Grüsse")

    scope: dict[str, Any] = {}
    exec(_example("python"), scope)
    scope["verify"](secret, headers, body.encode())
    with pytest.raises(ValueError, match="signature"):
        scope["verify"](secret, headers, altered.encode())

    (tmp_path / "verify.js").write_text(_example("js"))
    runner = (
        "const { verify } = require(process.argv[1]);"
        "const [secret, headers, body] = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "try { verify(secret, headers, Buffer.from(body)); console.log('ok'); }"
        "catch (e) { console.log(e.message); }"
    )
    for sent, answer in ((body, "ok"), (altered, "no valid signature")):
        result = subprocess.run(
            ["node", "-e", runner, str(tmp_path / "verify.js")],
            input=json.dumps([secret, headers, sent]),
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
        assert result.stdout.strip() == answer


def test_the_webhooks_repository_keeps_what_it_is_given(harness: Harness, site: Site) -> None:
    """The store's contract (domain/repositories/webhooks.py), on both databases."""
    now = harness.clock.now()
    hook = Webhook("h" * 24, site.website_id, "https://a.example/", ("message.created",), "s1", now)
    first = Delivery("msg_1", hook.id, "message.created", '{"a":1}', now, next_attempt_at=now)
    old = Delivery("msg_0", hook.id, "session.erased", "{}", now - timedelta(days=31))

    async def run() -> None:
        async with harness.rt.store.transaction() as tx:
            await tx.webhooks.insert(hook)
            await tx.webhooks.insert_deliveries([first, old])
        async with harness.rt.store.transaction() as tx:
            assert await tx.webhooks.get(hook.id) == hook
            assert await tx.webhooks.list_for_website(site.website_id) == [hook]
            assert await tx.webhooks.list_for_website(site.other_website_id) == []
            changed = dataclasses.replace(
                hook, events=("session.erased",), enabled=False, previous_secret="s0",
                previous_until=now, failing_since=now, disabled_at=now,
            )  # fmt: skip
            await tx.webhooks.save(changed)
            assert await tx.webhooks.get(hook.id) == changed
            assert await tx.webhooks.get_delivery("msg_1") == first
            assert [d.id for d in await tx.webhooks.list_deliveries(hook.id, 10)] == [
                "msg_1",
                "msg_0",
            ]
            attempted = dataclasses.replace(
                first, attempts=1, last_attempt_at=now, status_code=500, latency_ms=12,
                error="answered 500", answer_head="no",
            )  # fmt: skip
            await tx.webhooks.save_delivery(attempted)
            assert await tx.webhooks.get_delivery("msg_1") == attempted
            assert await tx.webhooks.fail_pending(hook.id, "disabled") == 2
            given_up = await tx.webhooks.get_delivery("msg_1")
            assert given_up is not None and given_up.state is DeliveryState.FAILED
            assert given_up.error == "disabled" and given_up.next_attempt_at is None
            assert await tx.webhooks.delete_deliveries_before(now - timedelta(days=30)) == 1
            assert await tx.webhooks.delete(hook.id)
            assert await tx.webhooks.get_delivery("msg_1") is None  # with its webhook
            assert not await tx.webhooks.delete(hook.id)

    harness.run(run())


def test_p6_resolution_and_the_purge_of_a_resolved_conversation_reach_the_webhook(
    make_settings: Callable[..., Settings], clock: ManualClock, receiver: Receiver
) -> None:
    settings = make_settings(webhook_allow_private="true", conversation_retention="1d")
    h = Harness(settings, clock)
    try:
        website = h.run(do_create_website(h.rt, CLI, "Shop", [ORIGIN]))
        site = Site(website.id, "", {}, {}, {})
        make_webhook(h, site, receiver.url, ["conversation.resolved"])
        session_id = visitor_writes(h, site, "hi")
        conversation_id = h.scalar(
            "SELECT id FROM conversations WHERE session_id = :s", s=session_id
        )
        h.run(do_set_state(h.rt, CLI, conversation_id, ConversationState.RESOLVED))
        run_jobs(h)  # (a delivery still pending about a person goes with them)
        clock.advance(timedelta(days=2))
        h.run(do_purge(h.rt))
        assert h.scalar("SELECT count(*) FROM conversations") == 0
        run_jobs(h)
        bodies = receiver.bodies()
        assert [b["type"] for b in bodies] == ["conversation.resolved", "conversation.deleted"]
        assert bodies[0]["data"]["conversation"]["state"] == "resolved"
        assert bodies[1]["data"] == {"conversation_id": conversation_id, "session_id": session_id}
    finally:
        h.close()
