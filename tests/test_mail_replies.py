"""Replies by mail (docs/notifications.md): a reply sent by SMTP to `causerie serve`'s listener
lands in the conversation, as the visitor's or the operator's message, with its attachments as
files; a wrong address is refused at RCPT time. And the pure parts: what of a reply is kept, the
reply address and the preferences' checks. Real parts on loopback, as tests/test_mail.py."""

from __future__ import annotations

from datetime import timedelta

import aiosmtplib
import pytest

from causerie.clock import ManualClock
from causerie.domain.errors import Invalid
from causerie.domain.mail import check_preferences, reply_token_of
from causerie.domain.mail_replies import strip_reply
from causerie.web.mail_in import html_text
from tests import mail_support
from tests.conftest import Harness, ServerThread, Site
from tests.files_support import HTML_AS_PNG, PDF, png_with_metadata
from tests.mail_support import (
    DOMAIN,
    Sink,
    mailed_a_reply,
    open_visitor,
    reply_mail,
    send_mail,
    send_reply,
)
from tests.support import wait_until

# tests/mail_support.py's fixtures: the SMTP sink and the settings that mail to it
sink_port = mail_support.sink_port
sink = mail_support.sink
settings = mail_support.settings
listen_port = mail_support.listen_port
listening = mail_support.listening


# -- replies by mail: `causerie serve`'s listener -----------------------------------------------


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the HTTP and SMTP sides
def test_reply_by_mail_lands_in_the_conversation_and_wrong_address_is_refused_at_rcpt(
    harness: Harness, site: Site, sink: Sink, clock: ManualClock, listening: ServerThread,
    listen_port: int,
) -> None:  # fmt: skip
    session_id, reply_to = mailed_a_reply(harness, site, sink, clock, "We open at 10.")

    body = (
        "Thanks, see you then!\n\n-- \nZoé, sent from my phone\n\n"
        "On Mon, 7 Dec 2026 at 10:02, Shop <chat@shop.example> wrote:\n> We open at 10.\n"
    )
    send_reply(listen_port, reply_to, text=body)
    send_reply(listen_port, reply_to, text=body)  # delivered twice: one message
    rows = harness.rows(
        "SELECT m.author, m.body FROM messages m JOIN conversations c ON c.id = m.conversation_id"
        " WHERE c.session_id = :s ORDER BY m.seq",
        s=session_id,
    )
    assert rows[-1] == ("visitor", "Thanks, see you then!")
    assert [r for r in rows if r[1] == "Thanks, see you then!"] == [rows[-1]]

    for wrong in (
        reply_to.replace("reply+", "reply+a"),
        f"reply+{'a' * 52}@{DOMAIN}",
        "postmaster@" + DOMAIN,
    ):
        with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
            send_reply(listen_port, wrong, text="hello")
        assert refused.value.recipients[0].code == 550


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the HTTP and SMTP sides
def test_an_operators_reply_by_mail_is_the_operators_message(
    harness: Harness, site: Site, sink: Sink, clock: ManualClock, listening: ServerThread,
    listen_port: int,
) -> None:  # fmt: skip
    session_id = open_visitor(harness, site, None, "Anyone there?")
    clock.advance(timedelta(minutes=3))
    wait_until(lambda: bool(sink.to("agent@shop.example")), 10, lambda: "no mail")
    reply_to = str(sink.to("agent@shop.example")[0]["Reply-To"])
    send_reply(
        listen_port, reply_to, text="Yes, hello!\n\nLe lun. 7 déc. 2026 à 10:02, X a écrit :\n> hi"
    )
    rows = harness.rows(
        "SELECT m.author, m.operator_id, m.body FROM messages m JOIN conversations c"
        " ON c.id = m.conversation_id WHERE c.session_id = :s ORDER BY m.seq",
        s=session_id,
    )
    assert rows[-1] == ("operator", site.operator_ids["agent"], "Yes, hello!")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the HTTP and SMTP sides
def test_reply_by_mail_keeps_its_attachments_as_files(
    harness: Harness, site: Site, sink: Sink, clock: ManualClock, listening: ServerThread,
    listen_port: int,
) -> None:  # fmt: skip
    session_id, reply_to = mailed_a_reply(harness, site, sink, clock, "Send us a photo?")

    message = reply_mail(
        reply_to,
        text="Here they are.\n\nOn Mon, 7 Dec 2026, Shop wrote:\n> Send us a photo?",
        message_id="<files@visitor.example>",
    )
    message.add_attachment(png_with_metadata(), "image", "png", filename="photo.png")
    message.add_attachment(HTML_AS_PNG, "image", "png", filename="cat.png")  # refused type
    message.add_attachment(PDF + bytes(70_000), "application", "pdf", filename="big.pdf")
    message.add_attachment(PDF, "application", "octet-stream", filename="../order.pdf")
    send_mail(listen_port, message)
    send_mail(listen_port, message)  # delivered twice: one message each

    rows = harness.rows(
        "SELECT m.author, m.type, m.body, f.content_type FROM messages m"
        " JOIN conversations c ON c.id = m.conversation_id LEFT JOIN files f ON f.message_id = m.id"
        " WHERE c.session_id = :s ORDER BY m.seq",
        s=session_id,
    )
    assert rows[-3:] == [
        ("visitor", "text", "Here they are.", None),
        ("visitor", "file", "photo.png", "image/png"),
        ("visitor", "file", "order.pdf", "application/pdf"),
    ]
    assert harness.scalar("SELECT count(*) FROM files") == 2  # the skipped ones left nothing


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the HTTP and SMTP sides
def test_an_html_reply_lands_with_plain_spaces_for_its_no_break_spaces(
    harness: Harness, site: Site, sink: Sink, clock: ManualClock, listening: ServerThread,
    listen_port: int,
) -> None:  # fmt: skip
    """`&nbsp;` (and U+00A0 written as such) landed as U+00A0: a message that looks like its
    text but that a search for "see you" did not find."""
    session_id, reply_to = mailed_a_reply(harness, site, sink, clock, "We open at 10.")
    html = (
        "<div>Thanks,&nbsp;see&#160;you\u00a0then!</div><div>&nbsp;</div>"
        '<div class="gmail_quote">On Mon, Shop wrote:<blockquote>We open at 10.</blockquote></div>'
    )
    send_reply(listen_port, reply_to, html=html)
    body = harness.scalar(
        "SELECT m.body FROM messages m JOIN conversations c ON c.id = m.conversation_id"
        " WHERE c.session_id = :s AND m.author = 'visitor' ORDER BY m.seq DESC LIMIT 1",
        s=session_id,
    )
    assert body == "Thanks, see you then!"


# -- pure parts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mail", "kept"),
    [
        ("Thanks!\n\nOn Mon, 7 Dec 2026, Ada <a@b.example> wrote:\n> old\n> older", "Thanks!"),
        ("Merci !\n\nLe lun. 7 déc. 2026 à 10:02, Ada <a@b.example> a écrit :\n> old", "Merci !"),
        (
            "Wrapped\n\nOn Mon, 7 Dec 2026 at 10:02, Ada Lovelace <a@b.example>\nwrote:\n> x",
            "Wrapped",
        ),
        ("Sure.\n-- \nAda\nCEO", "Sure."),
        ("Top\n> quoted line\nbottom", "Top\nbottom"),
        ("Answer\n\n-----Original Message-----\nFrom: x", "Answer"),
        ("On the other hand, yes.\nBye", "On the other hand, yes.\nBye"),
        ("\r\nLine one\r\nLine two\r\n", "Line one\nLine two"),
        # Bottom-posted under other languages' attributions: the attribution goes too
        ("Am Mo., 7. Dez. 2026 um 10:02 Uhr schrieb Ada <a@b.example>:\n> Hallo\n\nDanke", "Danke"),
        ("Am 07.12.2026 um 10:02 schrieb Ada:\n> Hallo\nDanke", "Danke"),
        (
            "El lun, 7 dic 2026 a las 10:02, Ada (<a@b.example>) escribió:\n> Hola\nGracias",
            "Gracias",
        ),
        ("Il giorno lun 7 dic 2026 alle 10:02 Ada ha scritto:\n> Ciao\nGrazie", "Grazie"),
        ("Op ma 7 dec 2026 om 10:02 schreef Ada <a@b.example>:\n> Hoi\nDank", "Dank"),
        ("Em seg., 7 de dez. de 2026 às 10:02, Ada escreveu:\n> Olá\nObrigado", "Obrigado"),
        # ...but a visitor's own line that only mentions writing stays
        ("Am Montag schrieb ich Ihnen schon.\nDanke", "Am Montag schrieb ich Ihnen schon.\nDanke"),
        # A no-break space (`&nbsp;` of an HTML mail, or a client's plain text) is a space
        ("Merci\u00a0!\n\u00a0\nÀ\u00a0bientôt", "Merci !\n\nÀ bientôt"),
    ],
)
def test_strip_reply(mail: str, kept: str) -> None:
    assert strip_reply(mail) == kept


def test_reply_address_and_preferences_checks() -> None:
    token = "a" * 52
    assert reply_token_of(f"Reply+{token.upper()}@REPLY.shop.example", DOMAIN) == token
    assert reply_token_of(f"reply+{token}@other.example", DOMAIN) is None
    assert reply_token_of(f"reply+{token[:-1]}@{DOMAIN}", DOMAIN) is None
    assert check_preferences({"mail_mentions": False}) == {"mail_mentions": False}
    for bad in ({"mail_mentions": "no"}, {"push": True}, []):
        with pytest.raises(Invalid):
            check_preferences(bad)


# -- an attribution's shape in what the visitor wrote -------------------------------------------

ADA = "Shop <reply+abc@reply.shop.example>"


@pytest.mark.parametrize(
    ("mail", "kept"),
    [
        (  # Gmail, top-posted: the visitor quotes the shop's FAQ in their own words
            "On your website the FAQ wrote:\n"
            '"Delivery in 2 days"\nbut it took a week.\n\n'
            f"On Mon, Dec 7, 2026 at 10:02 AM {ADA} wrote:\n\n> We shipped it.\n",
            'On your website the FAQ wrote:\n"Delivery in 2 days"\nbut it took a week.',
        ),
        (  # Gmail in French
            "Le livreur a écrit :\nColis déposé chez le voisin\nMais je n'ai rien reçu.\n\n"
            f"Le lun. 7 déc. 2026 à 10:02, {ADA} a écrit :\n\n> Votre colis est parti.\n",
            "Le livreur a écrit :\nColis déposé chez le voisin\nMais je n'ai rien reçu.",
        ),
        (  # Outlook: the history under its header block, no `>`
            "On Friday your agent wrote:\nrefund within 5 days\nNothing yet.\n\n"
            f"*From:* {ADA}\n*Sent:* Monday, December 7, 2026 10:02 AM\n*To:* Zoé\n"
            "*Subject:* Re: Shop\n\nWe will refund you.\n",
            "On Friday your agent wrote:\nrefund within 5 days\nNothing yet.",
        ),
        (  # Outlook in French
            "Le 3 décembre, votre collègue a écrit :\nremboursement sous 5 jours\n"
            "Toujours rien.\n\n"
            f"De : {ADA}\nEnvoyé : lundi 7 décembre 2026 10:02\nÀ : Zoé\nObjet : Re: Shop\n\n"
            "Nous vous remboursons.\n",
            "Le 3 décembre, votre collègue a écrit :\nremboursement sous 5 jours\nToujours rien.",
        ),
        (  # Apple Mail: its attribution among the quoted lines, the visitor's own above
            "On the invoice of 7 Dec you wrote:\nTotal 40 €\nbut I paid 45 €.\n\n"
            f"> On 7 Dec 2026, at 10:02, {ADA} wrote:\n>\n> Here is your invoice.\n",
            "On the invoice of 7 Dec you wrote:\nTotal 40 €\nbut I paid 45 €.",
        ),
        (  # Thunderbird, bottom-posted: the visitor's shaped line is under the quote
            f"On 07/12/2026 10:02, {ADA} wrote:\n> Which size?\n\n"
            "On the label my daughter wrote:\nM (10 years)\n",
            "On the label my daughter wrote:\nM (10 years)",
        ),
        (  # an attribution with nothing after it (its quote dropped by the client) goes
            f"Thanks!\n\nOn Mon, 7 Dec 2026, {ADA} wrote:\n\n",
            "Thanks!",
        ),
    ],
)
def test_a_line_shaped_like_an_attribution_without_a_quote_is_the_visitors(
    mail: str, kept: str
) -> None:
    """Such a line ended the reply, cutting everything the visitor wrote after it; only an
    attribution that the quote follows starts the history."""
    assert strip_reply(mail) == kept


@pytest.mark.parametrize(
    ("html", "kept"),
    [
        (  # Thunderbird, bottom-posted in HTML: the quote is a blockquote under the attribution
            f'<div class="moz-cite-prefix">On 07/12/2026 10:02, {ADA} wrote:<br></div>'
            '<blockquote type="cite"><p>We open at 10.</p></blockquote>'
            "<p>Great, see you then.</p>",
            "Great, see you then.",
        ),
        (  # Thunderbird in French, top-posted
            "<p>Parfait, à demain.</p>"
            f'<div class="moz-cite-prefix">Le 07/12/2026 à 10:02, {ADA} a écrit&nbsp;:<br></div>'
            '<blockquote type="cite"><p>Nous ouvrons à 10 h.</p></blockquote>',
            "Parfait, à demain.",
        ),
        (  # Apple Mail: its attribution inside the blockquote
            '<div>Thanks!</div><div><br><blockquote type="cite"><div>On 7 Dec 2026, at 10:02,'
            f" {ADA} wrote:</div><br><div>Hello</div></blockquote></div>",
            "Thanks!",
        ),
        (  # Gmail: its quote in a `gmail_quote` block, a shaped line of the visitor above
            "<div>On the phone your agent wrote:</div><div>order 1234</div>"
            f'<div class="gmail_quote"><div>On Mon, {ADA} wrote:</div>'
            "<blockquote>Your order?</blockquote></div>",
            "On the phone your agent wrote:\n\norder 1234",
        ),
    ],
)
def test_an_html_reply_keeps_what_follows_its_quote(html: str, kept: str) -> None:
    """A blockquote was dropped with its `>`: an attribution was left with nothing quoted under
    it, and a bottom-posted answer after it was cut with the history."""
    assert strip_reply(html_text(html)) == kept
