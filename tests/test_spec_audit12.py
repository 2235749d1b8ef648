"""Audit 12: the privacy promises met from outside, on a running server, for what the second
wave added (files, mail, push, webhooks, reports, the shield, labels and ratings). Each test
names the promise it checks; docs/privacy.md maps them."""

from __future__ import annotations

from datetime import timedelta

import httpx

from causerie.actions.mail import unsubscribe_url
from causerie.actions.retention import do_purge
from causerie.clock import ManualClock
from causerie.domain.wire import iso
from tests import privacy_support
from tests.conftest import ORIGIN, Harness, Site
from tests.files_support import PDF
from tests.privacy_support import (
    Visitor,
    assert_nowhere,
    auth,
    operator_says,
    patch_website,
    privacy,
)

web = privacy_support.web
server_log = privacy_support.server_log


def _label(http: httpx.Client, site: Site, name: str, color: str) -> dict[str, str]:
    made = http.post(
        f"/api/v1/websites/{site.website_id}/labels",
        json={"name": name, "color": color},
        headers=auth(site, "admin"),
    )
    assert made.status_code == 201, made.text
    label: dict[str, str] = made.json()["label"]
    return label


def test_p9_the_export_holds_the_labels_agents_put_on_the_persons_conversation(
    web: httpx.Client, site: Site, harness: Harness
) -> None:
    """Labels are declared personal data of the visitor (`conversations.labels`: the agents'
    classification of their conversation); the export must show them, by name."""
    email = "ada.label@mail.example"
    visitor = Visitor(web, site.website_id, ip="203.0.113.90")
    assert visitor.profile(email=email).status_code == 200
    assert visitor.say("hello, a refund please").status_code == 201
    conversation_id = harness.scalar(
        "SELECT id FROM conversations WHERE session_id = :s", s=visitor.session_id
    )
    difficult = _label(web, site, "Difficult customer", "#aa0011")
    refund = _label(web, site, "Refund", "#00aa11")
    put = web.put(
        f"/api/v1/conversations/{conversation_id}/labels",
        json={"labels": [difficult["id"], refund["id"]]},
        headers=auth(site, "agent"),
    )
    assert put.status_code == 200, put.text

    exported = privacy(web, site, "admin", "export", email=email)
    assert exported.status_code == 200, exported.text
    conversation = exported.json()["sessions"][0]["conversation"]
    assert conversation["labels"] == [
        {"id": difficult["id"], "name": "Difficult customer"},
        {"id": refund["id"], "name": "Refund"},
    ]
    # The visitor's own download leaves the agents' classification out, as it does their notes
    # (docs/privacy.md): the owner answering a request reviews both.
    own = web.get("/api/widget/v1/session/export", headers=visitor.headers)
    assert own.status_code == 200, own.text
    assert "labels" not in own.json()["sessions"][0]["conversation"]


def test_p4_an_unsubscribe_link_is_not_written_to_the_log(
    web: httpx.Client, site: Site, harness: Harness, server_log: list[str]
) -> None:
    """The one-click link of a mail about a conversation names the session and carries the
    signature that makes it work: the access log records the request, never the link."""
    visitor = Visitor(web, site.website_id, ip="203.0.113.91")
    assert visitor.say("mail me the answer").status_code == 201
    link = unsubscribe_url(harness.rt, f"v.{visitor.session_id}")
    path = link.removeprefix(harness.settings.public_url)
    token = path.rsplit("/", 1)[1]
    signature = token.rsplit(".", 1)[1]

    assert web.get(path).status_code == 200
    assert web.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert harness.scalar(
        "SELECT count(*) FROM mail_opt_outs WHERE session_id = :s", s=visitor.session_id
    )
    access = [line for line in server_log if "/mail/unsubscribe/" in line]
    assert len(access) == 2, server_log  # the GET and the POST, each logged
    logged = "\n".join(server_log)
    assert signature not in logged and visitor.session_id not in logged, access


def test_p18_p20_block_this_visitor_keeps_their_address_no_longer_than_the_chat_ip_retention(
    web: httpx.Client, site: Site, harness: Harness, clock: ManualClock
) -> None:
    """ "Block this visitor" copies the session's raw IP into a block rule, which had no expiry
    unless the admin gave one: the copy outlived the IP's retention (P18) and the deletion of
    the conversation (P20). The rule now ends when the IP it copied would have been erased."""
    started = clock.now()
    blocked = Visitor(web, site.website_id, ip="198.51.100.231")
    assert blocked.say("you are all idiots").status_code == 201
    conversation_id = harness.scalar(
        "SELECT id FROM conversations WHERE session_id = :s", s=blocked.session_id
    )
    clock.advance(timedelta(hours=1))
    rule = web.post(
        f"/api/v1/conversations/{conversation_id}/block",
        json={"reason": "insults"},
        headers=auth(site, "admin"),
    )
    assert rule.status_code == 201, rule.text
    assert rule.json()["block"]["expires_at"] == iso(started + timedelta(days=365))
    # The website deletes the conversation; the rule keeps refusing the visitor meanwhile.
    gone = web.delete(f"/api/v1/conversations/{conversation_id}", headers=auth(site, "admin"))
    assert gone.status_code == 200, gone.text
    refused = web.post(
        f"/api/widget/v1/websites/{site.website_id}/session",
        json={"page": {"url": "https://shop.example/", "title": "", "referrer": ""}},
        headers={"Origin": ORIGIN, "X-Forwarded-For": "198.51.100.231"},
    )
    assert refused.status_code == 403, refused.text

    # A website keeping chat IPs 30 days: an expiry asked later is brought back to that.
    assert patch_website(
        web, site, "owner", site.website_id, settings={"retention": {"chat_ips": 30}}
    ).is_success
    second_start = clock.now()
    other = Visitor(web, site.website_id, ip="198.51.100.232")
    assert other.say("buy cheap watches").status_code == 201
    other_conversation = harness.scalar(
        "SELECT id FROM conversations WHERE session_id = :s", s=other.session_id
    )
    capped = web.post(
        f"/api/v1/conversations/{other_conversation}/block",
        json={"reason": "spam", "expires_at": iso(second_start + timedelta(days=100))},
        headers=auth(site, "admin"),
    )
    assert capped.status_code == 201, capped.text
    assert capped.json()["block"]["expires_at"] == iso(second_start + timedelta(days=30))

    # When the retention has run, the purge takes the rules, and no raw IP is left anywhere.
    clock.advance(timedelta(days=366))
    counts = harness.run(do_purge(harness.rt))
    assert counts["expired_blocks"] == 2 and counts["chat_ips"] == 1, counts
    assert_nowhere(harness.settings.database_url, ["198.51.100.231", "198.51.100.232"])


def test_p9_the_export_holds_the_block_rules_that_name_the_person(
    web: httpx.Client, site: Site, harness: Harness
) -> None:
    """A block rule holding the person's address (made by "block this visitor") or email is
    personal data about them (`block_rules.value`, `reason`), kept for the website's security
    past an erasure: the export the website makes for them must show it."""
    email = "mallory.blocked@mail.example"
    visitor = Visitor(web, site.website_id, ip="198.51.100.240")
    assert visitor.profile(email=email).status_code == 200
    assert visitor.say("spam spam spam").status_code == 201
    conversation_id = harness.scalar(
        "SELECT id FROM conversations WHERE session_id = :s", s=visitor.session_id
    )
    by_address = web.post(
        f"/api/v1/conversations/{conversation_id}/block",
        json={"reason": "floods the chat"},
        headers=auth(site, "admin"),
    )
    assert by_address.status_code == 201, by_address.text
    rules = f"/api/v1/websites/{site.website_id}/blocks"
    made = {}
    for kind, value in (
        ("email", email.upper()),
        ("email", "someone.else@mail.example"),
        ("network", "203.0.113.0/24"),
    ):
        created = web.post(
            rules, json={"kind": kind, "value": value, "reason": "r"}, headers=auth(site, "owner")
        )
        assert created.status_code == 201, created.text
        made[value] = created.json()["block"]

    exported = privacy(web, site, "admin", "export", email=email)
    assert exported.status_code == 200, exported.text
    blocks = sorted(exported.json()["sessions"][0]["blocks"], key=lambda rule: rule["id"])
    expected = [by_address.json()["block"], made[email.upper()]]
    assert blocks == sorted(expected, key=lambda rule: rule["id"])
    assert {rule["value"] for rule in blocks} == {"198.51.100.240", email}  # stored lowercase
    # The visitor's own download leaves the managers' rules and reasons out, as their notes.
    own = web.get("/api/widget/v1/session/export", headers=visitor.headers)
    assert own.status_code == 200, own.text  # a blocked visitor keeps their rights
    assert "blocks" not in own.text


def test_p17_p9_a_whole_chat_export_and_erasure_log_no_address_email_text_or_file_name(
    web: httpx.Client, site: Site, harness: Harness, server_log: list[str]
) -> None:
    """Everything the server logs (every level, before the address filter) during a chat with
    a profile, a file, an agent's answer and note, the visitor's export and erasure: no
    address, no email, no phone, no name, no text, no file name, no token."""
    visitor = Visitor(web, site.website_id, ip="198.51.100.250")
    secrets_ = {
        "address": "198.51.100.250",
        "email": "quiet.person@mail.example",
        "phone": "+33 6 12 34 56 78",
        "nickname": "Quentin Quiet",
        "text": "my order 7781 never came",
        "answer": "sorry about order 7781",
        "note": "customer sounds upset",
        "file": "scan-of-my-passport.pdf",
        "token": visitor.token,
    }
    profile = visitor.profile(
        nickname=secrets_["nickname"], email=secrets_["email"], phone=secrets_["phone"]
    )
    assert profile.status_code == 200, profile.text
    assert visitor.say(secrets_["text"]).status_code == 201
    uploaded = web.post(
        "/api/widget/v1/session/files",
        headers=visitor.headers,
        files={"file": (secrets_["file"], PDF, "application/pdf")},
    )
    assert uploaded.status_code == 201, uploaded.text
    operator_says(web, site, visitor.session_id, secrets_["answer"])
    operator_says(web, site, visitor.session_id, secrets_["note"], "note")
    assert web.get("/api/widget/v1/session/export", headers=visitor.headers).status_code == 200
    assert privacy(web, site, "admin", "export", email=secrets_["email"]).status_code == 200
    assert web.delete("/api/widget/v1/session", headers=visitor.headers).status_code == 200

    assert any("/api/widget/v1/session/files" in line for line in server_log), server_log
    logged = "\n".join(server_log)
    for what, value in secrets_.items():
        assert value not in logged, f"the {what} is in the log"


def test_p9_the_export_says_whether_agents_marked_the_persons_conversation_as_spam(
    web: httpx.Client, site: Site, harness: Harness
) -> None:
    """An agent's judgement that a person's conversation is spam is kept with it and listed
    in docs/privacy.md's table of what is held: the export agents make for them says it."""
    email = "maybe.spammer@mail.example"
    visitor = Visitor(web, site.website_id, ip="198.51.100.241")
    assert visitor.profile(email=email).status_code == 200
    assert visitor.say("cheap watches here").status_code == 201
    conversation_id = harness.scalar(
        "SELECT id FROM conversations WHERE session_id = :s", s=visitor.session_id
    )

    def exported_spam() -> object:
        exported = privacy(web, site, "admin", "export", email=email)
        assert exported.status_code == 200, exported.text
        return exported.json()["sessions"][0]["conversation"]["spam"]

    assert exported_spam() is False
    marked = web.post(f"/api/v1/conversations/{conversation_id}/spam", headers=auth(site, "agent"))
    assert marked.status_code == 200, marked.text
    assert exported_spam() is True
