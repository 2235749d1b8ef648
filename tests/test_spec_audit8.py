"""Contracts of SPEC.md's second wave checked from outside (eighth outside audit, branch audit8,
2026-12-07): notifications, replies by mail.

Replies written as Outlook, Gmail, Apple Mail and Thunderbird write them, sent by SMTP to a real
`causerie serve` listener, found these (each test fails before its fix): Outlook quotes the mail
answered under a header block ("From: ... / Sent: ... / Subject: ...", "De : ... / Envoyé : ... /
Objet : ...") with no `>` and, in its HTML, no `blockquote`, so the whole history, reply address
included, landed in the conversation as the visitor's message; Gmail's attribution wrapped over
three lines (a long name, then the 52-character reply address, then `wrote:`) and an attribution in
another language than English or French ("Am ... schrieb ...:") landed too, their quoted lines
dropped; a reply written under the quote (bottom-posting), after an attribution, was accepted and
nothing of it landed. `CAUSERIE_SMTP_URL` with a user and no password (or a password and no user)
was taken, and every mail then went out with an empty password (or unauthenticated); a path or a
fragment after the port was taken and ignored. A mention's mail (`@Name` in a note) carried a reply
address, and an answer to it landed as the operator's message to the visitor. An agent's file sent
alone was never mailed to the visitor who did not see it. The listener's database side is the same
on every database: SQLite only, as tests/test_mail_replies.py; reply addresses are stored, so the
mention's test runs on both.
"""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest

from causerie.actions.files import Upload, check_operator_upload, do_upload_operator_file
from causerie.clock import ManualClock
from causerie.domain.mail_replies import strip_reply
from causerie.domain.models import Actor
from causerie.settings import SettingsError, load_settings
from tests import mail_support
from tests.conftest import Harness, ServerThread, Site
from tests.files_support import PDF
from tests.mail_support import (
    DOMAIN,
    Sink,
    mailed_a_reply,
    open_visitor,
    reply,
    run_due,
    send_reply,
)

sink_port = mail_support.sink_port
sink = mail_support.sink
settings = mail_support.settings
listen_port = mail_support.listen_port
listening = mail_support.listening

ADDRESS = f"reply+{'a' * 52}@{DOMAIN}"

OUTLOOK_HTML = (
    "<html><body><div>Thanks, Tuesday works.</div><div id='appendonsend'></div>"
    "<hr style='display:inline-block;width:98%' tabindex='-1'>"
    "<div id='divRplyFwdMsg' dir='ltr'><font face='Calibri'><b>From:</b> Shop &lt;{to}&gt;<br>"
    "<b>Sent:</b> Monday, December 7, 2026 10:02 AM<br><b>To:</b> Zoé<br>"
    "<b>Subject:</b> Re: Shop</font><div>&nbsp;</div></div>"
    "<div>We can deliver on Tuesday.</div></body></html>"
)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the HTTP and SMTP sides
def test_an_outlook_reply_lands_without_the_header_block_and_history_it_quotes(
    harness: Harness, site: Site, sink: Sink, clock: ManualClock, listening: ServerThread,
    listen_port: int,
) -> None:  # fmt: skip
    session_id, reply_to = mailed_a_reply(harness, site, sink, clock, "We can deliver on Tuesday.")

    send_reply(
        listen_port,
        reply_to,
        html=OUTLOOK_HTML.format(to=reply_to),
        message_id="<outlook-html@visitor.example>",
    )
    plain = (
        f"Merci, mardi me va.\r\n\r\nDe : Shop <{reply_to}>\r\n"
        "Envoyé : lundi 7 décembre 2026 10:02\r\n"
        "À : Zoé <zoe@visitor.example>\r\nObjet : Re: Shop\r\n\r\nWe can deliver on Tuesday.\r\n"
    )
    send_reply(listen_port, reply_to, text=plain, message_id="<outlook-plain@visitor.example>")

    bodies = harness.rows(
        "SELECT m.author, m.body FROM messages m JOIN conversations c ON c.id = m.conversation_id"
        " WHERE c.session_id = :s ORDER BY m.seq",
        s=session_id,
    )
    assert bodies[-2:] == [
        ("visitor", "Thanks, Tuesday works."),
        ("visitor", "Merci, mardi me va."),
    ]


@pytest.mark.parametrize(
    ("mail", "kept"),
    [
        (  # Gmail wraps a long attribution: name, then the reply address, then `wrote:`
            f"Thanks!\n\nOn Mon, Dec 7, 2026 at 10:02 AM Shop Support Team of Example Store <\n"
            f"{ADDRESS}>\nwrote:\n\n> Hello\n",
            "Thanks!",
        ),
        (  # Outlook's plain text, no separator line, bold headers from its HTML
            f"Thanks\n\n*From:* Shop <{ADDRESS}>\n*Sent:* Monday, December 7, 2026 10:02 AM\n"
            "*To:* Zoé\n*Subject:* Re: Shop\n\nHello, how can we help?\n",
            "Thanks",
        ),
        (  # another language's attribution, told by its shape: a date, a colon, quotes after
            f"Danke\n\nAm Mo., 7. Dez. 2026 um 10:02 Uhr schrieb Shop <{ADDRESS}>:\n\n> Hallo\n",
            "Danke",
        ),
        (  # Apple Mail puts its attribution among the quoted lines
            f"Thanks\n\n> On 7 Dec 2026, at 10:02, Shop <{ADDRESS}> wrote:\n>\n> Hello\n",
            "Thanks",
        ),
        (  # bottom-posting (Thunderbird, mailing-list habits): the new text is under the quote
            "On Mon, 7 Dec 2026 at 10:02, Shop <chat@shop.example> wrote:\n> We open at 10.\n\n"
            "Great, see you then.\n",
            "Great, see you then.",
        ),
        ("Le lun. 7 déc. 2026, Shop a écrit :\n> Bonjour\n\nMerci !", "Merci !"),
        ("On Mon, Shop wrote:\n> Size?\nM\n> Colour?\nBlue", "M\nBlue"),  # answers between
        # What a visitor writes stays, even when it looks like a header or ends in a colon
        ("From: Paris, arriving 7 Dec.\nSee you", "From: Paris, arriving 7 Dec.\nSee you"),
        (
            "My order 1234 says:\n> out of stock\nIs that right?",
            "My order 1234 says:\nIs that right?",
        ),
        ("Items:\n1. one\n2. two", "Items:\n1. one\n2. two"),
    ],
)
def test_quoted_history_is_removed_as_each_mail_client_writes_it(mail: str, kept: str) -> None:
    assert strip_reply(mail) == kept


# -- CAUSERIE_SMTP_URL: what every mail would fail on is refused at start ----------------------


def _smtp_error(tmp_path: Path, url: str) -> str:
    with pytest.raises(SettingsError) as caught:
        load_settings(environ={"CAUSERIE_DATA_DIR": str(tmp_path), "CAUSERIE_SMTP_URL": url})
    message = str(caught.value)
    assert message.startswith("CAUSERIE_SMTP_URL (value hidden) (from the environment): ")
    assert "secret" not in message
    return message.split(": ", 1)[1]


@pytest.mark.parametrize(
    "url",
    [
        "smtp://secret@mail.example:587",  # logged in with an empty password
        "smtp://secret:@mail.example:587",
        "smtp://:secret@mail.example:587",  # the password dropped, mail sent unauthenticated
    ],
)
def test_a_user_without_a_password_or_a_password_without_a_user_is_refused(
    tmp_path: Path, url: str
) -> None:
    assert _smtp_error(tmp_path, url) == (
        "a user goes with its password: smtp://USER:PASSWORD@HOST:PORT, or neither"
    )


@pytest.mark.parametrize(
    "url", ["smtp://u:secret@mail.example:587/mail", "smtp://u:secret@mail.example:587#x"]
)
def test_a_path_or_fragment_the_mailer_would_ignore_is_refused(tmp_path: Path, url: str) -> None:
    assert _smtp_error(tmp_path, url) == "nothing but ?starttls=true may follow HOST:PORT"


def test_the_spec_forms_of_the_smtp_url_are_taken(tmp_path: Path) -> None:
    for url in (
        "smtp://user:pass@mail.example:587",
        "smtp://us%40er:p%40ss@mail.example:587/",
        "smtps://user:pass@mail.example",
        "smtp://mail.example:2525?starttls=true",
        "smtp://[::1]:25",
    ):
        env = {"CAUSERIE_DATA_DIR": str(tmp_path), "CAUSERIE_SMTP_URL": url}
        assert load_settings(environ=env).smtp_url == url


# -- a mention's mail cannot be answered into the visitor's conversation -----------------------


def test_a_mention_mail_has_no_reply_address_so_an_answer_never_reaches_the_visitor(
    harness: Harness, site: Site, sink: Sink, clock: ManualClock
) -> None:
    """A note is the agents' own; its mail's Reply-To was the operator's reply address, and an
    answer to it landed as the operator's message to the visitor."""
    session_id = open_visitor(harness, site, None)
    harness.execute("UPDATE operators SET name = 'Ada Lovelace' WHERE email = 'owner@shop.example'")
    reply(harness, site, session_id, "@ada is this the customer who never paid?", type_="note")
    run_due(harness)
    (mention,) = sink.to("owner@shop.example")
    assert "mentioned you" in str(mention["Subject"])
    assert mention["Reply-To"] is None
    text = mention.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Reply to this mail" not in text
    assert harness.scalar("SELECT count(*) FROM reply_addresses") == 0

    clock.advance(timedelta(minutes=3))  # the new conversation's mail still takes answers
    run_due(harness)
    new = [m for m in sink.to("owner@shop.example") if "mentioned" not in str(m["Subject"])]
    assert len(new) == 1 and str(new[0]["Reply-To"]).startswith("reply+")


# -- an agent's file alone is a reply the visitor is mailed -------------------------------------


def test_an_agents_file_alone_is_mailed_to_the_visitor_who_did_not_see_it(
    harness: Harness, site: Site, sink: Sink, clock: ManualClock
) -> None:
    """Only text replies started the delay: a visitor sent their invoice as a file alone never
    heard of it, though SPEC mails "an agent's reply"."""
    session_id = open_visitor(harness, site, "zoe@visitor.example")
    conversation_id = harness.scalar(
        "SELECT id FROM conversations WHERE session_id = :s", s=session_id
    )
    agent = Actor("operator", operator_id=site.operator_ids["agent"])
    harness.run(
        do_upload_operator_file(
            harness.rt, agent, conversation_id, upload=Upload("invoice.pdf", io.BytesIO(PDF)),
            kinds=harness.run(check_operator_upload(harness.rt, agent, conversation_id)),
        )
    )  # fmt: skip
    clock.advance(timedelta(minutes=3))
    run_due(harness)
    (mail,) = sink.to("zoe@visitor.example")
    assert "File: invoice.pdf" in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
