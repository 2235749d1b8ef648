"""The conversation by mail, asked for in the chatbox's menu (docs/widget.md, "Email me this
conversation"; docs/notifications.md, `mail.transcript`), end to end in real headless Chromium:
the menu, the email asked for in the chatbox when the visitor left none, the job the server runs
and the mail a local SMTP server (aiosmtpd, tests/mail_support.py) receives.

Same set-up as tests/test_widget_privacy.py (tests/widget_support.py): a host page on another
origin, SQLite, a real agent socket online (so the chatbox never asks for an email by itself).
"""

from __future__ import annotations

from email.message import EmailMessage

from playwright.sync_api import expect

from tests import mail_support, widget_support
from tests.browser_support import HostSite, NewContext, host_page
from tests.live import Live
from tests.mail_support import Sink
from tests.support import wait_until
from tests.test_widget_privacy import opened
from tests.widget_support import WAIT, Desk, Shop, StartServer, visit

database_url = widget_support.database_url
harness = widget_support.harness
shop = widget_support.shop
start_causerie = widget_support.start_causerie
desks = widget_support.desks
sink = mail_support.sink
sink_port = mail_support.sink_port

pytest_plugins = ["tests.browser_support"]  # browser, new_context, host_site, host


def _mails_to(sink: Sink, address: str, count: int) -> list[EmailMessage]:
    """The mails `address` received, once there are `count` (the server's own job loop sends
    them)."""
    wait_until(
        lambda: len(sink.to(address)) >= count,
        WAIT,
        lambda: f"{len(sink.to(address))} mail(s) to {address}",
    )
    return sink.to(address)


def _text(mail: EmailMessage) -> str:
    body = mail.get_body(("plain",))
    assert body is not None
    return str(body.get_content())  # type: ignore[attr-defined]


def test_a_visitor_who_left_no_email_gives_it_in_the_chatbox_and_receives_the_conversation(
    new_context: NewContext,
    host: HostSite,
    start_causerie: StartServer,
    shop: Shop,
    desks: list[Live],
    sink: Sink,
    sink_port: int,
) -> None:
    causerie = start_causerie(
        smtp_url=f"smtp://127.0.0.1:{sink_port}", mail_from="Shop chat <chat@shop.example>"
    )
    host.pages["/"] = host_page(causerie.url, shop.website_id)
    desk = Desk(causerie.url, shop, desks)
    page, chat = visit(new_context, host.url("/"))
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    privacy = opened(chat)
    chat.send_and_wait("Could you mail me what we say? <b>not bold</b>")
    seen = desk.wait_message("Could you mail me what we say? <b>not bold</b>")
    desk.reply("Of course: the menu mails it.", conversation_id=seen["conversation_id"])
    expect(chat.items).to_have_count(2)
    with page.expect_file_chooser() as chooser:
        chat.host.locator('[part="attach"]').click()
    chooser.value.set_files(
        {"name": "receipt.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%%EOF\n"}
    )
    expect(chat.items).to_have_count(3)

    # No email left (someone is online: the chatbox never asked): asked for here, not a dead end
    # that says to leave it "in the chat", where nothing asks for it.
    privacy.choose("Email me this conversation")
    field = privacy.sheet.get_by_role("textbox", name="Your email")
    expect(field).to_be_focused()
    expect(privacy.sheet).to_contain_text("Which email address should we send it to?")
    expect(privacy.form).to_be_hidden()
    field.fill("visitor@example.org")
    field.press("Enter")
    expect(privacy.sheet).to_contain_text("On its way to your email address.")
    (mail,) = _mails_to(sink, "visitor@example.org", 1)
    assert mail["Subject"] == "Your conversation with Demo shop"
    text = _text(mail)
    assert "Could you mail me what we say? <b>not bold</b>" in text
    assert "Of course: the menu mails it." in text
    assert "File: receipt.pdf" in text  # by name: it was left out without a trace
    assert failed == []  # the email was known missing: no 422 to learn it

    # Closed, the composer is back; asked again, it goes at once to the email now known.
    privacy.sheet.get_by_role("button", name="Close").click()
    expect(privacy.sheet).to_be_hidden()
    expect(chat.composer).to_be_focused()
    chat.send_and_wait("And one more thing.")
    privacy.choose("Email me this conversation")
    expect(privacy.sheet).to_contain_text("On its way to your email address.")
    assert "And one more thing." in _text(_mails_to(sink, "visitor@example.org", 2)[1])

    # Cancel leaves the composer as it was, nothing sent.
    other, other_chat = visit(new_context, host.url("/"))
    other_privacy = opened(other_chat)
    other_chat.send_and_wait("Just looking.")
    other_privacy.choose("Email me this conversation")
    other_privacy.sheet.get_by_role("button", name="Cancel").click()
    expect(other_privacy.sheet).to_be_hidden()
    expect(other_privacy.form).to_be_visible()
    assert len(sink.received) == 2
    other.close()
