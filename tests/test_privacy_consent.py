"""What a visitor is asked and told, and what an owner signs, end to end over a real socket on
SQLite and PostgreSQL: consent (P9), the notice page (P8), a website's shorter retention (P6),
the DPA and the processing register (P10, P2, P11), and a chat without a name (P5).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx

from causerie.clock import ManualClock
from causerie.domain.personal_data import PERSONAL
from causerie.domain.privacy import DPA_VERSION
from causerie.domain.wire import iso
from causerie.settings import Settings
from tests import privacy_support
from tests.conftest import ORIGIN, OTHER_ORIGIN, Harness, ServerThread, Site
from tests.privacy_support import (
    Visitor,
    assert_audit_holds_no,
    audit_rows,
    auth,
    details_of,
    patch_website,
    privacy,
)
from tests.support import cli_env, invoke_cli
from tests.test_errors import error_of

# tests/privacy_support.py's fixtures, for this module's tests
web = privacy_support.web


# -- P9: consent --------------------------------------------------------------------------------


def test_p9_consent_is_asked_recorded_with_its_version_and_can_be_withdrawn(
    web: httpx.Client, site: Site, harness: Harness, clock: ManualClock
) -> None:
    changed = patch_website(
        web,
        site,
        "admin",
        site.website_id,
        settings={"consent_required": True, "consent_notice": "We keep your chat for a year."},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["website"]["settings"]["consent_version"] == 1

    visitor = Visitor(web, site.website_id, ip="203.0.113.120")
    settings = visitor.website["settings"]
    assert (settings["consent_required"], settings["consent_version"]) == (True, 1)
    assert settings["consent_notice"] == "We keep your chat for a year."

    # Without consent nothing is collected: no message, no conversation, no profile.
    assert error_of(visitor.say("hello without consent"), 403)["code"] == "consent_required"
    refused = visitor.profile(email="nope@mail.example")
    assert error_of(refused, 403)["code"] == "consent_required"
    assert harness.scalar("SELECT count(*) FROM messages") == 0
    assert harness.scalar("SELECT count(*) FROM conversations") == 0
    assert harness.rows("SELECT email, consent_version, consent_at, state FROM sessions") == [
        (None, None, None, "temporary")
    ]

    assert error_of(visitor.consent(2), 422)["code"] == "stale_notice"
    clock.advance(timedelta(minutes=3))
    accepted_at = clock.now()
    given = visitor.consent(1)
    assert given.status_code == 200, given.text
    assert given.json()["session"]["consent"] == {"version": 1, "accepted_at": iso(accepted_at)}
    assert visitor.say("hello with consent").status_code == 201
    assert visitor.profile(email="yes@mail.example").status_code == 200

    seen = web.get(f"/api/v1/sessions/{visitor.session_id}", headers=auth(site, "agent")).json()
    assert seen["session"]["consent"] == {"version": 1, "accepted_at": iso(accepted_at)}
    exported = privacy(web, site, "admin", "export", session_id=visitor.session_id).json()
    assert exported["sessions"][0]["consent"] == {"version": 1, "accepted_at": iso(accepted_at)}

    # A new notice is a new version: the earlier consent no longer suffices.
    clock.advance(timedelta(days=1))
    renewed = patch_website(
        web, site, "admin", site.website_id, settings={"consent_notice": "New terms."}
    )
    assert renewed.json()["website"]["settings"]["consent_version"] == 2
    assert error_of(visitor.say("still there?"), 403)["code"] == "consent_required"
    assert error_of(visitor.consent(1), 422)["code"] == "stale_notice"
    assert visitor.consent(2).json()["session"]["consent"]["version"] == 2
    assert visitor.say("accepted the new terms").status_code == 201

    # Withdrawn: messages refused again, the consent gone from the session, and audited.
    withdrawn = web.delete("/api/widget/v1/session/consent", headers=visitor.headers)
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["session"]["consent"] is None
    assert harness.rows(
        "SELECT consent_version, consent_at FROM sessions WHERE id = :s", s=visitor.session_id
    ) == [(None, None)]
    assert error_of(visitor.say("after withdrawal"), 403)["code"] == "consent_required"
    assert harness.scalar("SELECT count(*) FROM messages") == 2
    [entry] = audit_rows(harness, "consent.withdraw")
    assert entry[:6] == (
        "visitor",
        None,
        "consent.withdraw",
        site.website_id,
        "session",
        visitor.session_id,
    )
    assert details_of(entry) == {}
    assert_audit_holds_no(harness, ["203.0.113.120", "yes@mail.example", "hello with consent"])

    # Withdrawing consent does not take the visitor's rights away: export and erasure work.
    own = web.get("/api/widget/v1/session/export", headers=visitor.headers)
    assert own.status_code == 200, own.text
    assert own.json()["sessions"][0]["consent"] is None
    assert web.delete("/api/widget/v1/session", headers=visitor.headers).json() == {
        "erased": {"sessions": 1, "messages": 2}
    }

    # A website that asks for nothing takes no consent.
    other = Visitor(web, site.other_website_id, ip="198.51.100.9", origin=OTHER_ORIGIN)
    assert error_of(other.consent(1), 422)["code"] == "consent_not_asked"
    assert other.say("no consent needed here").status_code == 201


# -- P8: the notice page, and P6: a website may shorten, never lengthen -------------------------


def test_p8_p6_notice_page_reads_the_live_settings_in_english_and_french(
    make_settings: Callable[..., Settings],
    start_server: Callable[[Settings], ServerThread],
    site: Site,
) -> None:
    server = start_server(make_settings(chat_ip_retention="200d", cookie_max_age="90d"))
    with httpx.Client(base_url=server.url, timeout=10) as http:

        def fetch(website_id: str, lang: str) -> httpx.Response:
            response = http.get(f"/privacy/{website_id}", params={"lang": lang})
            assert response.status_code == 200, response.text
            return response

        def page(website_id: str, lang: str) -> str:
            """The page as a reader sees it (entities decoded)."""
            return html.unescape(fetch(website_id, lang).text)

        en = fetch(site.website_id, "en")
        assert en.headers["content-type"].startswith("text/html")
        csp = en.headers["content-security-policy"]
        assert "default-src 'none'" in csp
        assert "script-src" not in csp  # nothing may run
        assert en.headers["x-content-type-options"] == "nosniff"
        assert '<html lang="en">' in en.text
        assert "<script" not in en.text
        english = html.unescape(en.text)
        assert "the IP address is kept 200 days" in english
        assert "destroyed 30 minutes after your last visit" in english
        assert "expires after 90 days" in english
        assert "kept until it is deleted once resolved" in english
        french = page(site.website_id, "fr")
        assert '<html lang="fr">' in french
        assert "l'adresse IP est conservée 200 jours" in french
        assert "détruites 30 minutes" in french
        assert "expire après 90 jours" in french

        # The website shortens its own retention: the page follows at once, for it alone.
        shorter = patch_website(
            http,
            site,
            "admin",
            site.website_id,
            settings={"retention": {"chat_ips": 30, "resolved_conversations": 60}},
        )
        assert shorter.status_code == 200, shorter.text
        assert shorter.json()["website"]["settings"]["retention"] == {
            "chat_ips": 30,
            "resolved_conversations": 60,
        }
        assert "the IP address is kept 30 days" in page(site.website_id, "en")
        assert "kept 60 days once resolved" in page(site.website_id, "en")
        assert "l'adresse IP est conservée 30 jours" in page(site.website_id, "fr")
        assert "the IP address is kept 200 days" in page(site.other_website_id, "en")

        # Never longer than the server's setting.
        longer = patch_website(
            http, site, "admin", site.website_id, settings={"retention": {"chat_ips": 201}}
        )
        assert error_of(longer, 422)["code"] == "invalid_settings"
        assert "the IP address is kept 30 days" in page(site.website_id, "en")

        # Consent, when asked, is explained; a website's name is text, never markup.
        renamed = patch_website(
            http,
            site,
            "admin",
            site.website_id,
            name="<script>alert('x')</script> & <b>Co</b>",
            settings={"consent_required": True},
        )
        assert renamed.status_code == 200, renamed.text
        marked = fetch(site.website_id, "en").text
        assert "<script>" not in marked
        assert "<b>" not in marked
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &lt;b&gt;Co&lt;/b&gt;" in (
            marked
        )
        assert "asks you to accept this notice" in html.unescape(marked)
        assert "vous demande d'accepter" in page(site.website_id, "fr")

        # Without ?lang=, the browser's language.
        browser = http.get(f"/privacy/{site.website_id}", headers={"Accept-Language": "fr-CA,fr"})
        assert '<html lang="fr">' in browser.text

        missing = http.get("/privacy/nosuchwebsite000000000000", params={"lang": "en"})
        assert error_of(missing, 404)["code"] == "website_not_found"


def test_p6_a_websites_retention_overrides_merge_rule_by_rule(
    web: httpx.Client, site: Site
) -> None:
    first = patch_website(
        web, site, "admin", site.website_id, settings={"retention": {"chat_ips": 30}}
    )
    assert first.json()["website"]["settings"]["retention"] == {"chat_ips": 30}
    second = patch_website(
        web, site, "admin", site.website_id, settings={"retention": {"resolved_conversations": 60}}
    )
    assert second.status_code == 200, second.text
    assert second.json()["website"]["settings"]["retention"] == {
        "chat_ips": 30,
        "resolved_conversations": 60,
    }
    # null gives a rule back to the server's setting.
    third = patch_website(
        web, site, "admin", site.website_id, settings={"retention": {"chat_ips": None}}
    )
    assert third.json()["website"]["settings"]["retention"] == {"resolved_conversations": 60}


# -- P10 DPA, P2 and P11 register ---------------------------------------------------------------


def test_p10_p2_p11_dpa_acceptance_and_the_processing_register(
    web: httpx.Client, site: Site, harness: Harness, clock: ManualClock, tmp_path: Path
) -> None:
    path = f"/api/v1/websites/{site.website_id}/dpa"
    offered = web.get(path, headers=auth(site, "admin"))
    assert offered.json() == {"current_version": DPA_VERSION, "acceptances": []}
    harness.execute(
        "UPDATE operators SET name = 'Olivia Owner' WHERE id = :i", i=site.operator_ids["owner"]
    )

    refused = web.post(path, json={"version": DPA_VERSION}, headers=auth(site, "admin"))
    assert error_of(refused, 403)["code"] == "forbidden"
    unknown = web.post(path, json={"version": "1999-01"}, headers=auth(site, "owner"))
    assert error_of(unknown, 422)["code"] == "unknown_dpa_version"
    outsider = web.post(path, json={"version": DPA_VERSION}, headers=auth(site, "other_owner"))
    assert error_of(outsider, 404)["code"] == "website_not_found"
    assert harness.scalar("SELECT count(*) FROM dpa_acceptances") == 0

    accepted = web.post(path, json={"version": DPA_VERSION}, headers=auth(site, "owner"))
    assert accepted.status_code == 201, accepted.text
    expected = {
        "current_version": DPA_VERSION,
        "acceptances": [
            {
                "version": DPA_VERSION,
                "operator": {"id": site.operator_ids["owner"], "name": "Olivia Owner"},
                "accepted_at": iso(clock.now()),
            }
        ],
    }
    assert accepted.json() == expected
    assert web.get(path, headers=auth(site, "admin")).json() == expected
    assert error_of(web.get(path, headers=auth(site, "agent")), 403)["code"] == "forbidden"
    [entry] = audit_rows(harness, "dpa.accept")
    assert entry[:6] == (
        "operator",
        site.operator_ids["owner"],
        "dpa.accept",
        site.website_id,
        "website",
        site.website_id,
    )
    assert details_of(entry) == {"version": DPA_VERSION}

    # The register over the API: the caller's websites only.
    mine = web.get("/api/v1/privacy/register", headers=auth(site, "admin"))
    assert mine.status_code == 200, mine.text
    markdown = mine.json()["markdown"]
    assert f"### Shop (`{site.website_id}`)" in markdown
    assert site.other_website_id not in markdown
    assert (
        f"- Data-processing agreement: version {DPA_VERSION} accepted on "
        f"{clock.now().date().isoformat()} by Olivia Owner"
    ) in markdown
    theirs = web.get("/api/v1/privacy/register", headers=auth(site, "other_owner")).json()
    assert f"### Other (`{site.other_website_id}`)" in theirs["markdown"]
    assert site.website_id not in theirs["markdown"]
    assert f"version {DPA_VERSION} not accepted yet" in theirs["markdown"]
    agent = web.get("/api/v1/privacy/register", headers=auth(site, "agent"))
    assert error_of(agent, 403)["code"] == "forbidden"

    # The register follows the website's own choices: consent asked, a shorter retention.
    chosen = patch_website(
        web,
        site,
        "admin",
        site.website_id,
        settings={"consent_required": True, "retention": {"chat_ips": 30}},
    )
    assert chosen.status_code == 200, chosen.text
    markdown = web.get("/api/v1/privacy/register", headers=auth(site, "owner")).json()["markdown"]
    assert "- Consent before chatting: required (notice version 1)" in markdown
    assert "- Shorter retention chosen by the website: `chat_ips` 30 days" in markdown

    # The register from the shell: every website, every declared field, the settings in force,
    # the SMTP relay's host and never its credentials.
    env = cli_env(
        harness.settings.data_dir,
        harness.settings.database_url,
        CAUSERIE_SMTP_URL="smtp://mailer-user:Hunter2-Secret@relay.mail.example:587",
        CAUSERIE_CHAT_IP_RETENTION="200d",
        CAUSERIE_AUDIT_RETENTION="400d",
    )
    result = invoke_cli("privacy", "register", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    register = result.stdout
    assert register.startswith("# Record of processing activities")
    for field in PERSONAL:
        assert f"`{field.key}`" in register, field.key
    for line in (
        "| `CAUSERIE_CHAT_IP_RETENTION` | 200 days |",
        "| `CAUSERIE_TEMPORARY_SESSION_TTL` | 30 minutes |",
        "| `CAUSERIE_CONVERSATION_RETENTION` | forever |",
        "| `CAUSERIE_COOKIE_MAX_AGE` | 182 days |",
        "| `CAUSERIE_LOGIN_TTL` | 14 days |",
        "| `CAUSERIE_AUDIT_RETENTION` | 400 days |",
        "- SMTP relay: relay.mail.example:587: mail to operators",
        f"### Shop (`{site.website_id}`)",
        f"### Other (`{site.other_website_id}`)",
        f"version {DPA_VERSION} not accepted yet",
        f"version {DPA_VERSION} accepted on",
    ):
        assert line in register, line
    assert "Hunter2-Secret" not in register
    assert "mailer-user" not in register
    assert "Hunter2-Secret" not in result.stderr


def test_p5_a_visitor_chats_without_giving_a_name_an_email_or_a_phone(
    http: httpx.Client, site: Site, harness: Harness
) -> None:
    """Nothing is asked before chatting: a first message is stored and answered with no profile,
    and what is held of the visitor names no one."""
    opened = http.post(
        f"/api/widget/v1/websites/{site.website_id}/session",
        json={"page": {"url": "https://shop.example/", "title": "Shop"}},
        headers={"Origin": ORIGIN},
    )
    assert opened.status_code == 201, opened.text
    assert opened.json()["website"]["settings"]["email_prompt"] is True  # asked after, optional
    token = opened.json()["token"]
    sent = http.post(
        "/api/widget/v1/session/messages",
        json={"client_id": "p5", "body": "Just a question"},
        headers={"Authorization": f"Bearer {token}", "Origin": ORIGIN},
    )
    assert sent.status_code == 201, sent.text
    profile = harness.rows("SELECT state, nickname, email, phone FROM sessions")
    assert profile == [("permanent", None, None, None)]
    document = http.get(
        "/api/widget/v1/session/export",
        headers={"Authorization": f"Bearer {token}", "Origin": ORIGIN},
    ).json()
    assert document["sessions"][0]["profile"] == {
        "nickname": None,
        "email": None,
        "phone": None,
        "data": {},
    }
