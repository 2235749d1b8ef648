"""Replies by mail as real mail clients and servers shape them (audit15): encodings and
charsets a reply comes in, and the automatic mails (bounces, out-of-office answers) that must
never land as the visitor's message nor be answered (docs/notifications.md, "Replies by mail")."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import aiosmtplib
import pytest

from causerie.actions.members import do_remove_member
from causerie.clock import ManualClock
from causerie.domain.mail_flowed import unflow
from causerie.domain.models import Actor
from tests import mail_support
from tests.conftest import Harness, ServerThread, Site
from tests.mail_support import Sink, mailed_a_reply, reply_mail, send_mail
from tests.support import wait_until

# tests/mail_support.py's fixtures: the SMTP sink and the settings that mail to it
sink_port = mail_support.sink_port
sink = mail_support.sink
settings = mail_support.settings
listen_port = mail_support.listen_port
listening = mail_support.listening

# "Thanks, see you at the café!" with a UTF-8 é, as the bytes a client wrote
_UTF8_TEXT = "Thanks, see you at the café!".encode()


def _visitor_bodies(harness: Harness, session_id: str) -> list[str]:
    rows = harness.rows(
        "SELECT m.body FROM messages m JOIN conversations c ON c.id = m.conversation_id"
        " WHERE c.session_id = :s AND m.author = 'visitor' ORDER BY m.seq",
        s=session_id,
    )
    return [str(r[0]) for r in rows]


def _send_raw(port: int, sender: str, to: str, raw: bytes) -> tuple[int, str]:
    """`raw` sent as is from envelope `sender` ("" is the null sender `<>`): the DATA answer."""

    async def run() -> tuple[int, str]:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=10)
        await client.connect()
        try:
            await client.mail(sender)
            await client.rcpt(to)
            answer = await client.data(raw)
            return answer.code, answer.message
        finally:
            await client.quit()

    return asyncio.run(run())


def _raw(to: str, headers: str, body: bytes) -> bytes:
    head = (
        f"From: zoe@visitor.example\r\nTo: {to}\r\nSubject: Re: Shop\r\n"
        f"Message-ID: <raw-{abs(hash(body))}@visitor.example>\r\nMIME-Version: 1.0\r\n{headers}"
    )
    return head.encode("ascii") + b"\r\n" + body


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the HTTP and SMTP sides
def test_a_reply_in_a_charset_python_does_not_know_lands_rather_than_a_500(
    harness: Harness, site: Site, sink: Sink, clock: ManualClock, listening: ServerThread,
    listen_port: int,
) -> None:  # fmt: skip
    """`charset="unknown-8bit"` (what some servers write for 8-bit text of no declared
    charset) raised LookupError in the handler: aiosmtpd answered `500 Error: (LookupError)`,
    the visitor got a bounce and her reply was lost."""
    session_id, reply_to = mailed_a_reply(harness, site, sink, clock, "We open at 10.")
    raw = _raw(
        reply_to,
        'Content-Type: text/plain; charset="unknown-8bit"\r\nContent-Transfer-Encoding: 8bit\r\n',
        _UTF8_TEXT + b"\r\n",
    )
    code, _ = _send_raw(listen_port, "zoe@visitor.example", reply_to, raw)
    assert code == 250
    assert _visitor_bodies(harness, session_id)[-1] == "Thanks, see you at the café!"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the HTTP and SMTP sides
def test_replies_in_latin_1_quoted_printable_base64_and_alternative_parts_land_as_written(
    harness: Harness, site: Site, sink: Sink, clock: ManualClock, listening: ServerThread,
    listen_port: int,
) -> None:  # fmt: skip
    session_id, reply_to = mailed_a_reply(harness, site, sink, clock, "We open at 10.")
    html_latin1 = _raw(
        reply_to,
        'Content-Type: text/html; charset="iso-8859-1"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n",
        b"<p>Merci, =E0 demain au caf=E9 !</p>\r\n<blockquote>We open at 10.</blockquote>\r\n",
    )
    assert _send_raw(listen_port, "zoe@visitor.example", reply_to, html_latin1)[0] == 250

    alternative = reply_mail(reply_to, text="Plain: see you.", message_id="<alt@visitor.example>")
    alternative.add_alternative("<p>HTML: see you.</p>", subtype="html", cte="base64")
    send_mail(listen_port, alternative)
    assert _visitor_bodies(harness, session_id)[-2:] == [
        "Merci, à demain au café !",
        "Plain: see you.",
    ]


def _dsn(to: str) -> bytes:
    """A delivery status notification (RFC 3464) as Exchange writes it: no Auto-Submitted."""
    return (
        f"From: Microsoft Outlook <postmaster@visitor.example>\r\nTo: {to}\r\n"
        "Subject: Undeliverable: Re: Shop\r\nMessage-ID: <ndr-1@visitor.example>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n\r\n'
        "--b1\r\nContent-Type: text/plain\r\n\r\nDelivery has failed to these recipients.\r\n"
        "--b1\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.visitor.example\r\n\r\n"
        "Final-Recipient: rfc822; zoe@visitor.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "--b1--\r\n"
    ).encode("ascii")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the HTTP and SMTP sides
@pytest.mark.parametrize(
    ("sender", "shape"),
    [
        ("", "null sender"),  # RFC 5321 4.5.5: notifications come from <>
        ("postmaster@visitor.example", "multipart/report"),
        ("zoe@visitor.example", "X-Autoreply"),
        ("zoe@visitor.example", "X-Autorespond"),
    ],
)
def test_automatic_mails_without_auto_submitted_are_dropped_not_landed(
    harness: Harness, site: Site, sink: Sink, clock: ManualClock, listening: ServerThread,
    listen_port: int, sender: str, shape: str,
) -> None:  # fmt: skip
    """Only `Auto-Submitted` and `Precedence` were read: a bounce from `<>`, a delivery report
    and an auto-responder marking itself `X-Autoreply`/`X-Autorespond` (but not RFC 3834's
    header) landed in the conversation as the visitor's message."""
    session_id, reply_to = mailed_a_reply(harness, site, sink, clock, "We open at 10.")
    before = _visitor_bodies(harness, session_id)
    if shape == "multipart/report":
        raw = _dsn(reply_to)
    else:
        header = f"{shape}: yes\r\n" if shape.startswith("X-") else ""
        raw = _raw(
            reply_to,
            header + "Content-Type: text/plain; charset=utf-8\r\n",
            b"I am out of the office until Monday.\r\n",
        )
    code, message = _send_raw(listen_port, sender, reply_to, raw)
    assert (code, message) == (250, "OK (automatic reply dropped)")
    assert _visitor_bodies(harness, session_id) == before


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_a_nul_character_in_a_reply_is_dropped_as_the_chatbox_refuses_it(
    harness: Harness, site: Site, sink: Sink, clock: ManualClock, listening: ServerThread,
    listen_port: int,
) -> None:  # fmt: skip
    """A NUL in a mail's text (which the API refuses with 422) was stored as is: on SQLite a
    message the inbox cut at the NUL, on PostgreSQL an error for every delivery (`451`), so
    the sending server retried for days and then bounced the visitor's reply."""
    session_id, reply_to = mailed_a_reply(harness, site, sink, clock, "We open at 10.")
    raw = _raw(reply_to, "Content-Type: text/plain; charset=utf-8\r\n", b"See you\x00 then!\r\n")
    assert _send_raw(listen_port, "zoe@visitor.example", reply_to, raw)[0] == 250
    assert _visitor_bodies(harness, session_id)[-1] == "See you then!"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the HTTP and SMTP sides
def test_a_format_flowed_reply_lands_as_its_paragraphs_not_its_wrapped_lines(
    harness: Harness, site: Site, sink: Sink, clock: ManualClock, listening: ServerThread,
    listen_port: int,
) -> None:  # fmt: skip
    """Thunderbird and Apple Mail send `format=flowed` (RFC 3676): a long line wrapped at 72
    characters, each soft break a line ending in a space. It landed with its breaks in the
    middle of sentences; DelSp=yes (breaks inside words) too."""
    session_id, reply_to = mailed_a_reply(harness, site, sink, clock, "We open at 10.")
    flowed = (
        b"Thanks for the quick answer, we will come to the shop tomorrow at ten \r\n"
        b"with my sister.\r\n"
        b"\r\n"
        b" From Lyon, Zo\xc3\xa9\r\n"  # space-stuffed
        b"-- \r\n"
        b"Zo\xc3\xa9\r\n"
        b"\r\n"
        b"On Mon, 7 Dec 2026, Shop wrote:\r\n"
        b"> We open at 10. Bring the \r\n"
        b"> receipt.\r\n"
    )
    raw = _raw(reply_to, "Content-Type: text/plain; charset=utf-8; format=flowed\r\n", flowed)
    assert _send_raw(listen_port, "zoe@visitor.example", reply_to, raw)[0] == 250
    split = b"Merci pour la r\xc3\xa9ponse rapi \r\nde.\r\n"  # DelSp=yes: the space goes
    raw = _raw(
        reply_to, "Content-Type: text/plain; charset=utf-8; format=flowed; delsp=yes\r\n", split
    )
    assert _send_raw(listen_port, "zoe@visitor.example", reply_to, raw)[0] == 250
    assert _visitor_bodies(harness, session_id)[-2:] == [
        "Thanks for the quick answer, we will come to the shop tomorrow at ten with my sister."
        "\n\nFrom Lyon, Zoé",
        "Merci pour la réponse rapide.",
    ]


def test_unflow_joins_within_a_quote_level_and_never_across_one_nor_a_signature() -> None:
    flowed = "new \ntext\n-- \nsig\n> quoted \n> more\n>> deeper \n> back\nplain "
    assert unflow(flowed) == "new text\n-- \nsig\n> quoted more\n>> deeper \n> back\nplain "
    assert unflow("split wo \nrd", delsp=True) == "split word"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the HTTP and SMTP sides
def test_the_reply_address_of_an_operator_removed_from_the_website_is_refused_at_rcpt(
    harness: Harness, site: Site, sink: Sink, clock: ManualClock, listening: ServerThread,
    listen_port: int,
) -> None:  # fmt: skip
    """It was taken at RCPT (`250`) and refused at DATA as `550 5.7.1 no conversation 'ID'`:
    a late refusal (a bounce from the sending server) naming the wrong reason, where every
    address that no longer works is refused at RCPT."""
    session_id = mail_support.open_visitor(harness, site, None, "Anyone there?")
    clock.advance(timedelta(minutes=3))
    wait_until(lambda: bool(sink.to("agent@shop.example")), 10, lambda: "no mail")
    reply_to = str(sink.to("agent@shop.example")[0]["Reply-To"])
    owner = Actor("operator", operator_id=site.operator_ids["owner"])
    harness.run(do_remove_member(harness.rt, owner, site.website_id, site.operator_ids["agent"]))
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
        send_mail(listen_port, reply_mail(reply_to, text="Yes, hello!"))
    assert refused.value.recipients[0].code == 550
    assert _visitor_bodies(harness, session_id) == ["Anyone there?"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the HTTP and SMTP sides
def test_a_space_stuffed_line_starting_with_a_quote_mark_is_the_visitors_not_a_quote(
    harness: Harness, site: Site, sink: Sink, clock: ManualClock, listening: ServerThread,
    listen_port: int,
) -> None:  # fmt: skip
    """RFC 3676 4.4-4.5: a line of the writer's own that starts with `>` is sent space-stuffed
    (` >`), and only a `>` in the line's first column marks a quote. The stuffed line was
    unstuffed, then read as a quote and dropped: the visitor's `>From the FAQ` was lost."""
    session_id, reply_to = mailed_a_reply(harness, site, sink, clock, "We open at 10.")
    flowed = (
        b"Your page says:\r\n"
        b" >From the FAQ: returns within 30 days \r\n"  # stuffed, and soft-broken
        b"of purchase.\r\n"
        b" From Lyon, thanks!\r\n"  # stuffed `From `
        b"\r\n"
        b"On Mon, 7 Dec 2026, Shop wrote:\r\n"
        b"> We open at 10.\r\n"
    )
    raw = _raw(reply_to, "Content-Type: text/plain; charset=utf-8; format=flowed\r\n", flowed)
    assert _send_raw(listen_port, "zoe@visitor.example", reply_to, raw)[0] == 250
    assert _visitor_bodies(harness, session_id)[-1] == (
        "Your page says:\n>From the FAQ: returns within 30 days of purchase.\nFrom Lyon, thanks!"
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the HTTP and SMTP sides
def test_an_apple_mail_html_reply_lands_with_one_blank_line_between_its_paragraphs(
    harness: Harness, site: Site, sink: Sink, clock: ManualClock, listening: ServerThread,
    listen_port: int,
) -> None:  # fmt: skip
    """Apple Mail's HTML part wraps each line in a `div`, an empty line in `<div><br></div>`:
    "See you!" and "Sent from my iPhone" landed three newlines apart."""
    session_id, reply_to = mailed_a_reply(harness, site, sink, clock, "We open at 10.")
    html = (
        b'<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8">'
        b'</head><body dir="auto"><div dir="ltr">See you!</div><div dir="ltr"><br></div>'
        b'<div dir="ltr"><br></div><div dir="ltr"><br><div dir="ltr">Sent from my iPhone</div>'
        b'<div dir="ltr"><br><blockquote type="cite">On 7 Dec 2026, at 10:02, Shop wrote:'
        b'<br><br></blockquote></div><blockquote type="cite"><div dir="ltr">We open at 10.'
        b"</div></blockquote></div></body></html>\r\n"
    )
    raw = _raw(reply_to, "Content-Type: text/html; charset=utf-8\r\n", html)
    assert _send_raw(listen_port, "zoe@visitor.example", reply_to, raw)[0] == 250
    assert _visitor_bodies(harness, session_id)[-1] == "See you!\n\nSent from my iPhone"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the HTTP and SMTP sides
def test_a_mailed_reply_loses_its_control_characters_as_a_typed_message(
    harness: Harness, site: Site, sink: Sink, clock: ManualClock, listening: ServerThread,
    listen_port: int,
) -> None:  # fmt: skip
    """A plain part pasted from a terminal (ESC sequences, a bell) landed with them."""
    session_id, reply_to = mailed_a_reply(harness, site, sink, clock, "We open at 10.")
    text = b"See you \x1b[1mtomorrow\x1b[0m!\x07\r\n"
    raw = _raw(reply_to, "Content-Type: text/plain; charset=utf-8\r\n", text)
    assert _send_raw(listen_port, "zoe@visitor.example", reply_to, raw)[0] == 250
    assert _visitor_bodies(harness, session_id)[-1] == "See you [1mtomorrow[0m!"
