"""Mail (docs/notifications.md) with real parts on loopback: an aiosmtpd server receives what
Causerie sends through aiosmtplib (headers, both parts, one-click unsubscribe), the jobs run on
SQLite and PostgreSQL with the injected clock. Replies by mail, to `causerie serve`'s listener,
are in tests/test_mail_replies.py."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage
from html.parser import HTMLParser

import httpx
import pytest

from causerie.actions.jobs import get_jobs
from causerie.actions.mail import (
    check_unsubscribe_token,
    do_set_notification_preferences,
    get_mail_failures,
)
from causerie.actions.messages import do_send_session_message
from causerie.actions.privacy import do_erase_subject, do_export_subject
from causerie.actions.profiles import do_update_visitor_profile
from causerie.actions.sessions import do_open_session
from causerie.clock import ManualClock
from causerie.domain.errors import Invalid, NotFound
from causerie.domain.jobs import JobKind
from causerie.domain.mail import reply_token_of
from causerie.domain.models import Actor, PageView
from causerie.settings import Settings
from tests import mail_support
from tests.conftest import ORIGIN, Harness, ServerThread, Site
from tests.mail_support import (
    DOMAIN,
    GREYLISTED,
    REFUSED,
    Sink,
    open_visitor,
    reply,
    run_due,
)
from tests.support import wait_until

# tests/mail_support.py's fixtures: the SMTP sink and the settings that mail to it
sink_port = mail_support.sink_port
sink = mail_support.sink
settings = mail_support.settings


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.hrefs += [v or "" for k, v in attrs if k in ("href", "src", "background")]


def assert_well_formed(mail: EmailMessage, settings: Settings) -> tuple[str, str]:
    """Both parts, the one-click unsubscribe headers, and P16: no image, no link but the inbox's
    and the unsubscribe page's, nothing that could tell anyone the mail was opened."""
    assert mail["From"] == "Shop chat <chat@shop.example>"
    unsubscribe = str(mail["List-Unsubscribe"])
    assert re.fullmatch(r"<https://chat\.shop\.example/mail/unsubscribe/[^>\s]+>", unsubscribe)
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail.get_content_type() == "multipart/alternative"
    text_part = mail.get_body(preferencelist=("plain",))
    html_part = mail.get_body(preferencelist=("html",))
    assert text_part is not None and html_part is not None
    text, html = text_part.get_content(), html_part.get_content()
    links = _Links()
    links.feed(html)
    assert not links.tags & {"img", "script", "iframe", "object", "link", "video", "audio"}
    for href in links.hrefs:
        assert href == unsubscribe.strip("<>") or href.startswith(
            f"{settings.public_url}/app/#/conversations/"
        ), href
        assert "?" not in href
    assert "url(" not in html  # no background image either
    return text, html


def test_p16_new_conversation_mailed_to_operators_when_unanswered(
    harness: Harness, site: Site, sink: Sink, clock: ManualClock, settings: Settings
) -> None:
    harness.run(
        do_set_notification_preferences(
            harness.rt, Actor("operator", operator_id=site.operator_ids["admin"]),
            {"mail_new_conversation": False},
        )
    )  # fmt: skip
    open_visitor(harness, site, None, "Is the shop open on Sunday?")
    clock.advance(timedelta(minutes=1))
    run_due(harness)
    assert sink.received == []  # not before the delay
    clock.advance(timedelta(minutes=1, seconds=1))
    run_due(harness)

    assert sorted(r[0] for r, _ in sink.received) == ["agent@shop.example", "owner@shop.example"]
    mail = sink.to("owner@shop.example")[0]
    assert mail["Subject"] == "New conversation on Shop"
    text, html = assert_well_formed(mail, settings)
    assert "Is the shop open on Sunday?" in text and "Is the shop open on Sunday?" in html
    assert "#3b5bdb" in html  # the website's colour
    token = reply_token_of(str(mail["Reply-To"]), DOMAIN)
    assert token is not None and len(token) == 52
    # Stored hashed only.
    assert (
        harness.scalar("SELECT count(*) FROM reply_addresses WHERE token_hash = :t", t=token) == 0
    )
    run_due(harness)
    assert len(sink.received) == 2  # once


def test_answered_conversation_or_an_agent_online_is_not_mailed(
    harness: Harness, site: Site, sink: Sink, clock: ManualClock
) -> None:
    session_id = open_visitor(harness, site, None)
    reply(harness, site, session_id, "Hi! How can I help?")
    clock.advance(timedelta(minutes=5))
    run_due(harness)
    assert sink.received == []

    harness.run(harness.rt.presence.set_agent(site.website_id, "socket-1", "online"))
    open_visitor(harness, site, None, "Another visitor")
    clock.advance(timedelta(minutes=5))
    run_due(harness)
    assert sink.received == []  # the agent sees it in the inbox
    harness.run(harness.rt.presence.set_agent(site.website_id, "socket-1", None))


def test_visitor_gets_unseen_replies_grouped_in_one_mail_in_french(
    harness: Harness, site: Site, sink: Sink, clock: ManualClock, settings: Settings
) -> None:
    harness.run(_set_locale(harness, site, "fr"))
    session_id = open_visitor(harness, site, "zoe@visitor.example")
    reply(harness, site, session_id, "Bonjour !")
    clock.advance(timedelta(minutes=1))
    reply(harness, site, session_id, "Nous sommes ouverts le dimanche.")
    clock.advance(timedelta(minutes=1, seconds=1))
    run_due(harness)

    (mail,) = sink.to("zoe@visitor.example")
    assert mail["Subject"] == "Shop : nouvelle réponse à votre message"
    text, _ = assert_well_formed(mail, settings)
    assert "Bonjour !" in text and "Nous sommes ouverts le dimanche." in text
    assert "Répondez à ce message" in text
    assert reply_token_of(str(mail["Reply-To"]), DOMAIN) is not None

    # Seen in the chatbox before the delay: no mail.
    reply(harness, site, session_id, "Autre chose ?")
    harness.execute("UPDATE conversations SET unread_by_visitor = 0")
    clock.advance(timedelta(minutes=3))
    run_due(harness)
    assert len(sink.to("zoe@visitor.example")) == 1


async def _set_locale(harness: Harness, site: Site, locale: str) -> None:
    from causerie.actions.websites import do_update_website

    await do_update_website(
        harness.rt,
        Actor.cli(),
        site.website_id,
        name=None,
        origins=None,
        settings={"locale": locale},
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the HTTP and SMTP sides
def test_one_click_unsubscribe_stops_the_visitors_mail(
    harness: Harness, site: Site, sink: Sink, clock: ManualClock, server: ServerThread
) -> None:
    session_id = open_visitor(harness, site, "zoe@visitor.example")
    reply(harness, site, session_id, "First answer")
    clock.advance(timedelta(minutes=3))
    wait_until(lambda: bool(sink.received), 10, lambda: "no mail")
    url = str(sink.received[0][1]["List-Unsubscribe"]).strip("<>")
    path = url.removeprefix("https://chat.shop.example")
    with httpx.Client(base_url=server.url, timeout=10) as http:
        page = http.get(path)
        assert page.status_code == 200 and "<form" in page.text
        assert harness.scalar("SELECT count(*) FROM mail_opt_outs") == 0  # a GET changes nothing
        done = http.post(path, data={"List-Unsubscribe": "One-Click"})
        assert done.status_code == 200
        assert http.post(path[:-3] + "xyz").status_code == 404
    assert harness.scalar("SELECT count(*) FROM mail_opt_outs") == 1
    exported = harness.run(do_export_subject(harness.rt, Actor.cli(), session_id=session_id))
    assert exported["sessions"][0]["mail"]["unsubscribed_at"] is not None
    reply(harness, site, session_id, "Second answer")
    clock.advance(timedelta(minutes=3))
    wait_until(
        lambda: not [j for j in harness.run(get_jobs(harness.rt)) if j.kind.startswith("mail")],
        10,
        lambda: "the job did not run",
    )
    assert len(sink.received) == 1


def test_refused_address_is_recorded_shown_and_not_mailed_again(
    harness: Harness, site: Site, sink: Sink, clock: ManualClock
) -> None:
    session_id = open_visitor(harness, site, REFUSED)
    reply(harness, site, session_id, "Answer")
    clock.advance(timedelta(minutes=3))
    run_due(harness)
    agent = Actor("operator", operator_id=site.operator_ids["agent"])
    (failure,) = harness.run(get_mail_failures(harness.rt, agent, site.website_id))
    assert failure.address == REFUSED and "550" in failure.error
    assert failure.session_id == session_id
    assert not harness.run(get_jobs(harness.rt))  # not retried: refused for good
    # The visitor's export holds it (P9).
    exported = harness.run(do_export_subject(harness.rt, Actor.cli(), email=REFUSED))
    (refused,) = exported["sessions"][0]["mail"]["refused"]
    assert refused["address"] == REFUSED and "550" in refused["error"]
    reply(harness, site, session_id, "Another answer")
    clock.advance(timedelta(minutes=3))
    run_due(harness)
    assert sink.received == []  # a refused address is not tried again
    with pytest.raises(NotFound):
        other = Actor("operator", operator_id=site.operator_ids["other_owner"])
        harness.run(get_mail_failures(harness.rt, other, site.website_id))


def test_an_address_refused_for_now_is_tried_again_and_never_recorded_as_refused(
    harness: Harness, site: Site, sink: Sink, clock: ManualClock
) -> None:
    """A 4xx at RCPT (greylisting, a full mailbox) is "try again later", not a refusal: one
    greylisted attempt once recorded the address as refused for good."""
    session_id = open_visitor(harness, site, GREYLISTED)
    reply(harness, site, session_id, "Answer")
    clock.advance(timedelta(minutes=3))
    run_due(harness)
    assert sink.greylisted == 1 and sink.received == []
    agent = Actor("operator", operator_id=site.operator_ids["agent"])
    assert harness.run(get_mail_failures(harness.rt, agent, site.website_id)) == []
    (job,) = [j for j in harness.run(get_jobs(harness.rt)) if j.kind.startswith("mail")]
    assert job.attempts == 1 and "450" in (job.last_error or "")
    clock.advance(timedelta(minutes=1))  # past the first backoff
    run_due(harness)
    (mail,) = sink.to(GREYLISTED)
    assert "Answer" in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert harness.run(get_mail_failures(harness.rt, agent, site.website_id)) == []
    assert not [j for j in harness.run(get_jobs(harness.rt)) if j.kind.startswith("mail")]


def test_mention_in_a_note_mails_the_operator_named(
    harness: Harness, site: Site, sink: Sink, clock: ManualClock, settings: Settings
) -> None:
    session_id = open_visitor(harness, site, None)
    harness.execute("UPDATE operators SET name = 'Ada Lovelace' WHERE email = 'owner@shop.example'")
    reply(harness, site, session_id, "@ada can you take this one?", type_="note")
    reply(harness, site, session_id, "Let's ask @adam", type_="note")  # nobody named so
    run_due(harness)
    (mail,) = sink.to("owner@shop.example")
    assert "mentioned you" in str(mail["Subject"])
    text, _ = assert_well_formed(mail, settings)
    assert "@ada can you take this one?" in text


def test_p9_queued_mail_about_an_erased_visitor_is_dropped(
    harness: Harness, site: Site, sink: Sink, clock: ManualClock
) -> None:
    session_id = open_visitor(harness, site, "ada@visitor.example")
    reply(harness, site, session_id, "Answer")
    kinds = {j.kind for j in harness.run(get_jobs(harness.rt))}
    assert {JobKind.MAIL_NEW_CONVERSATION, JobKind.MAIL_VISITOR_REPLIES} <= kinds
    harness.run(do_erase_subject(harness.rt, Actor.cli(), email="ada@visitor.example"))
    assert not [j for j in harness.run(get_jobs(harness.rt)) if j.kind.startswith("mail")]
    clock.advance(timedelta(minutes=3))
    run_due(harness)
    assert sink.received == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_chatbox_is_told_that_this_server_sends_mail(site: Site, http: httpx.Client) -> None:
    """`website.mail` on the chatbox's load: it offers to mail a transcript only then (without
    mail, tests/test_session_endpoint.py: false)."""
    opened = http.post(
        f"/api/widget/v1/websites/{site.website_id}/session",
        json={"page": {"url": f"{ORIGIN}/", "title": "Home", "referrer": ""}},
        headers={"Origin": ORIGIN},
    )
    assert opened.status_code == 201, opened.text
    assert opened.json()["website"]["mail"] is True


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the HTTP and SMTP sides
def test_preferences_on_me_get_and_patch(site: Site, http: httpx.Client) -> None:
    auth = {"Authorization": f"Bearer {site.tokens['agent']}"}
    me = http.get("/api/v1/me", headers=auth).json()
    assert me["notification_preferences"] == {
        "mail_new_conversation": True,
        "mail_mentions": True,
        "mail_digest": False,
        "push_previews": False,
    }
    changed = http.patch(
        "/api/v1/me", headers=auth, json={"notification_preferences": {"mail_mentions": False}}
    )
    assert changed.status_code == 200
    assert changed.json()["notification_preferences"]["mail_mentions"] is False
    bad = http.patch(
        "/api/v1/me", headers=auth,
        json={"name": "Changed", "notification_preferences": {"mail_everything": True}},
    )  # fmt: skip
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_preferences"
    not_a_boolean = http.patch(
        "/api/v1/me", headers=auth, json={"notification_preferences": {"mail_mentions": "yes"}}
    )
    assert not_a_boolean.status_code == 422
    assert "notification_preferences.mail_mentions" in not_a_boolean.json()["error"]["message"]
    me = http.get("/api/v1/me", headers=auth).json()
    assert me["operator"]["name"] != "Changed"  # nothing changed
    assert me["notification_preferences"]["mail_mentions"] is False


def test_push_previews_is_a_preference_on_me_and_the_same_as_push_preferences(
    site: Site, http: httpx.Client
) -> None:
    auth = {"Authorization": f"Bearer {site.tokens['agent']}"}
    changed = http.patch(
        "/api/v1/me", headers=auth, json={"notification_preferences": {"push_previews": True}}
    )
    assert changed.status_code == 200
    assert changed.json()["notification_preferences"]["push_previews"] is True
    assert changed.json()["notification_preferences"]["mail_mentions"] is True  # untouched
    assert http.get("/api/v1/push/preferences", headers=auth).json() == {"push_previews": True}
    off = http.patch("/api/v1/push/preferences", headers=auth, json={"push_previews": False})
    assert off.status_code == 200
    me = http.get("/api/v1/me", headers=auth).json()
    assert me["notification_preferences"]["push_previews"] is False
    bad = http.patch(
        "/api/v1/me", headers=auth,
        json={"notification_preferences": {"push_previews": True, "mail_everything": True}},
    )  # fmt: skip
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_preferences"
    assert http.get("/api/v1/push/preferences", headers=auth).json() == {"push_previews": False}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_transcript_on_request(
    harness: Harness, site: Site, sink: Sink, clock: ManualClock, settings: Settings
) -> None:
    from causerie.actions.mail import do_request_transcript

    async def opened() -> str:
        o = await do_open_session(
            harness.rt, website_id=site.website_id, token=None, page=PageView(url=f"{ORIGIN}/"),
            ip="198.51.100.7", origin=ORIGIN,
        )  # fmt: skip
        await do_send_session_message(harness.rt, o.session.id, client_id="v1", body="Hello")
        return o.token

    token = harness.run(opened())
    with pytest.raises(Invalid):  # no email left yet
        harness.run(do_request_transcript(harness.rt, token=token, origin=ORIGIN))
    harness.run(
        do_update_visitor_profile(harness.rt, token=token, origin=ORIGIN, email="t@v.example")
    )
    harness.run(do_request_transcript(harness.rt, token=token, origin=ORIGIN))
    run_due(harness)
    transcripts = [m for m in sink.to("t@v.example") if "conversation with" in str(m["Subject"])]
    (mail,) = transcripts
    text, _ = assert_well_formed(mail, settings)
    assert "Hello" in text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_unsubscribe_token_is_signed(harness: Harness) -> None:
    from causerie.actions.mail import unsubscribe_url

    url = unsubscribe_url(harness.rt, "v.abc")
    token = url.rsplit("/", 1)[1]
    assert check_unsubscribe_token(harness.rt, token) == ["v", "abc"]
    with pytest.raises(NotFound):
        check_unsubscribe_token(harness.rt, token.replace("v.abc", "v.abd"))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_p11_the_register_lists_the_mail_server_and_the_listener(
    make_settings: Callable[..., Settings], sink_port: int, clock: ManualClock
) -> None:
    from causerie.actions.privacy import get_register

    settings = make_settings(
        smtp_url=f"smtp://user:Secret-Pass@127.0.0.1:{sink_port}", smtp_listen="0.0.0.0:2525"
    )
    harness = Harness(settings, clock)
    try:
        register = harness.run(get_register(harness.rt, Actor.cli()))
    finally:
        harness.close()
    assert f"- SMTP relay: 127.0.0.1:{sink_port}: mail to operators" in register
    assert "received by this server itself on 0.0.0.0:2525" in register
    assert "Secret-Pass" not in register
    for key in ("mail_failures.address", "mail_opt_outs.created_at"):
        assert f"`{key}`" in register


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_daily_digest_when_chosen_then_every_day_until_turned_off(
    harness: Harness, site: Site, sink: Sink, clock: ManualClock, settings: Settings
) -> None:
    from causerie.domain.mail import next_digest_at

    owner = Actor("operator", operator_id=site.operator_ids["owner"])
    harness.run(do_set_notification_preferences(harness.rt, owner, {"mail_digest": True}))
    session_id = open_visitor(harness, site, None, "Hi")
    reply(harness, site, session_id, "Hello!")
    clock.advance(next_digest_at(clock.now()) - clock.now())
    run_due(harness)

    (mail,) = [m for m in sink.to("owner@shop.example") if "Your day" in str(m["Subject"])]
    assert mail["Subject"] == "Your day on Shop"
    text, _ = assert_well_formed(mail, settings)
    assert "1 new conversations, 1 messages from visitors, 1 replies" in text
    assert mail["Reply-To"] is None
    (next_one,) = [j for j in harness.run(get_jobs(harness.rt)) if j.kind == JobKind.MAIL_DIGEST]
    assert next_one.run_at == next_digest_at(clock.now())

    harness.run(do_set_notification_preferences(harness.rt, owner, {"mail_digest": False}))
    clock.advance(timedelta(days=1))
    run_due(harness)
    assert len([m for m in sink.received if "Your day" in str(m[1]["Subject"])]) == 1
    assert not [j for j in harness.run(get_jobs(harness.rt)) if j.kind == JobKind.MAIL_DIGEST]
