"""Mail test support (docs/notifications.md): an SMTP server on loopback that keeps what
Causerie sends (`Sink`), the settings that send mail to it, and visitors and replies made
through the production actions. The mail test modules take its fixtures by name
(`sink = mail_support.sink`)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession

from causerie.actions.job_kinds import KINDS
from causerie.actions.jobs import do_run_due_jobs
from causerie.actions.messages import do_send_operator_message, do_send_session_message
from causerie.actions.profiles import do_update_visitor_profile
from causerie.actions.sessions import do_open_session
from causerie.clock import ManualClock
from causerie.domain.models import Actor, PageView
from causerie.settings import Settings
from tests.conftest import ORIGIN, Harness, ServerThread, Site
from tests.support import wait_until

DOMAIN = "reply.shop.example"
REFUSED = "refused@visitor.example"
GREYLISTED = "greylisted@visitor.example"  # refused for now (450) at its first RCPT only


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Sink:
    """An SMTP server on loopback that keeps what it receives, refuses `REFUSED` (550) and
    greylists `GREYLISTED` (450 at its first RCPT, as greylisting relays do)."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []
        self.greylisted = 0

    async def handle_RCPT(
        self, server: SMTP, session: SmtpSession, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address == REFUSED:
            return "550 5.1.1 No such user here"
        if address == GREYLISTED and not self.greylisted:
            self.greylisted += 1
            return "450 4.2.0 Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: Envelope) -> str:
        message = message_from_bytes(envelope.original_content or b"", policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append((list(envelope.rcpt_tos), message))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for rcpt, m in self.received if address in rcpt]


@pytest.fixture
def sink_port() -> int:
    return free_port()


@pytest.fixture
def sink(sink_port: int) -> Iterator[Sink]:
    handler = Sink()
    controller = Controller(handler, hostname="127.0.0.1", port=sink_port)
    controller.start()
    yield handler
    controller.stop()


@pytest.fixture
def settings(make_settings: Callable[..., Settings], sink_port: int) -> Settings:
    return make_settings(
        smtp_url=f"smtp://127.0.0.1:{sink_port}",
        mail_from="Shop chat <chat@shop.example>",
        mail_domain=DOMAIN,
        public_url="https://chat.shop.example",
    )


def open_visitor(harness: Harness, site: Site, email: str | None, text: str = "Hello?") -> str:
    async def run() -> str:
        rt = harness.rt
        opened = await do_open_session(
            rt, website_id=site.website_id, token=None, page=PageView(url=f"{ORIGIN}/"),
            ip="198.51.100.7", origin=ORIGIN,
        )  # fmt: skip
        if email:
            await do_update_visitor_profile(rt, token=opened.token, origin=ORIGIN, email=email)
        await do_send_session_message(rt, opened.session.id, client_id="v1", body=text)
        return opened.session.id

    return harness.run(run())


def reply(harness: Harness, site: Site, session_id: str, body: str, type_: str = "text") -> None:
    actor = Actor("operator", operator_id=site.operator_ids["agent"])
    client_id = f"o{len(body)}{abs(hash(body)) % 10**8}"
    harness.run(
        do_send_operator_message(
            harness.rt, actor, client_id=client_id, body=body, type_=type_, session_id=session_id
        )
    )


def run_due(harness: Harness) -> int:
    return harness.run(do_run_due_jobs(harness.rt, KINDS))


def mailed_a_reply(
    harness: Harness, site: Site, sink: Sink, clock: ManualClock, text: str
) -> tuple[str, str]:
    """A visitor who left zoe@visitor.example, and an agent's reply `text` mailed to her once
    the notify delay passed: her session and the mail's `Reply-To`."""
    session_id = open_visitor(harness, site, "zoe@visitor.example")
    reply(harness, site, session_id, text)
    clock.advance(timedelta(minutes=3))
    wait_until(lambda: bool(sink.to("zoe@visitor.example")), 10, lambda: "no mail")
    return session_id, str(sink.to("zoe@visitor.example")[0]["Reply-To"])


# -- replies by mail: `causerie serve`'s listener ---------------------------------------------


@pytest.fixture
def listen_port() -> int:
    return free_port()


@pytest.fixture
def listening(
    make_settings: Callable[..., Settings],
    sink_port: int,
    listen_port: int,
    start_server: Callable[[Settings], ServerThread],
    harness: Harness,
) -> ServerThread:
    """A server mailing to the sink and listening for replies on `listen_port`."""
    settings = make_settings(
        smtp_url=f"smtp://127.0.0.1:{sink_port}",
        mail_domain=DOMAIN,
        smtp_listen=f"127.0.0.1:{listen_port}",
        public_url="https://chat.shop.example",
        max_file="64KiB",
    )
    return start_server(settings)


def reply_mail(
    to: str, *, text: str = "", html: str = "", message_id: str = "<r1@visitor.example>"
) -> EmailMessage:
    """Zoé's reply to `to`: `text`, or else `html` alone (as some clients send)."""
    message = EmailMessage()
    message["From"] = "zoe@visitor.example"
    message["To"] = to
    message["Subject"] = "Re: Shop"
    message["Message-ID"] = message_id
    if text or not html:
        message.set_content(text)
    else:
        message.set_content(html, subtype="html")
    return message


def send_mail(port: int, message: EmailMessage) -> None:
    """`message` sent by SMTP to 127.0.0.1:`port`, on a loop of its own (not the harness's)."""
    asyncio.run(aiosmtplib.send(message, hostname="127.0.0.1", port=port, timeout=10))


def send_reply(port: int, to: str, **reply: str) -> None:
    send_mail(port, reply_mail(to, **reply))
