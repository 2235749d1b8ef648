"""Contracts of the second wave checked from outside (third outside audit, branch audit3).

An outside audit of SPEC.md's "Contracts of the second wave", "Command line" and "Settings"
against a running server and the `causerie` command found these (each test fails before its
fix): a canned reply's shortcut or title and a label's name over their limits were told a
looser limit than theirs (a name of 41 to 200 characters "1 to 40", one of 201 "at most 200");
`Accept: text/csv;q=0` and `text/csv;q=0.5, application/json` got the report as CSV; a Web Push
subscription to `https://169.254.169.254/...` or `https://localhost/...` was stored (refused only
at each push) where a webhook's URL is refused at once; `CAUSERIE_SMTP_URL=smtps://...
?starttls=true` was accepted and every mail then failed, and a port of 99999 was "not a number";
`causerie jobs list` cut the ids a reader copies into `causerie jobs retry ID` when its table
did not fit 80 columns (a pipe, a narrow terminal); a block rule's `expires_at` took numbers as
seconds or milliseconds since 1970, echoed the offset it was given (`+05:00`) where the wire
speaks UTC, and `9999-12-31T23:00:00-05:00` was a 500; another website's mail failures answered
`not_found` where every website route answers `website_not_found`; a report at the calendar's
edges (`from=0001-01-01`, `to=9999-12-31`) was a 500; mail's `List-Unsubscribe` went over the wire
as RFC 2047 encoded words, which no mail client reads there; a duration setting past 100 years
ran dates off the calendar (a traceback, not a bad setting); a made-up cursor with such a time
was a 500. Transport and command-line
contracts, the same on every database: SQLite only.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession

from causerie.clock import ManualClock
from causerie.settings import Settings, SettingsError, load_settings
from tests.cli_support import Cli, queued_and_failed_jobs
from tests.conftest import Harness, Site
from tests.mail_support import free_port, open_visitor, run_due
from tests.test_errors import error_of
from tests.test_push import Browser, b64
from tests.test_session_endpoint import open_session, send


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'causerie.db'}"


@pytest.fixture
def settings(make_settings: Callable[..., Settings], request: pytest.FixtureRequest) -> Settings:
    """The default settings, or those a test names (`indirect` parametrisation)."""
    return make_settings(**getattr(request, "param", {}))


def owner(site: Site) -> dict[str, str]:
    return {"Authorization": f"Bearer {site.tokens['owner']}"}


# -- canned replies and labels: the true limits --------------------------------------------------


def test_a_reply_over_its_limits_is_told_the_true_limit_and_nothing_is_stored(
    http: httpx.Client, site: Site
) -> None:
    path = f"/api/v1/websites/{site.website_id}/replies"

    def refused(**fields: str) -> tuple[str, str]:
        body = {"shortcut": "hello", "title": "Hello", "body": "Hi!"} | fields
        error = error_of(http.post(path, json=body, headers=owner(site)), 422)
        return error["code"], error["message"]

    shortcut = (
        "invalid_shortcut",
        "shortcut: 1 to 32 lowercase letters, digits, '-' or '_', starting with a letter or digit",
    )
    for length in (33, 64, 65, 500):
        assert refused(shortcut="s" * length) == shortcut
    for length in (101, 200, 201, 5000):
        assert refused(title="t" * length) == ("invalid_title", "title: 1 to 100 characters")
    for length in (10_001, 20_001):
        assert refused(body="b" * length) == (
            "invalid_body",
            "body: 1 to 10000 characters, not only spaces",
        )
    assert http.get(path, headers=owner(site)).json() == {"replies": []}

    made = http.post(
        path, json={"shortcut": "s" * 32, "title": "t" * 100, "body": "b"}, headers=owner(site)
    )
    assert made.status_code == 201, made.text
    patched = http.patch(
        f"{path}/{made.json()['reply']['id']}", json={"title": "t" * 201}, headers=owner(site)
    )
    assert error_of(patched, 422)["message"] == "title: 1 to 100 characters"


def test_a_label_over_its_limits_is_told_the_true_limit_and_nothing_is_stored(
    http: httpx.Client, site: Site
) -> None:
    path = f"/api/v1/websites/{site.website_id}/labels"
    for length in (41, 200, 201, 1000):
        error = error_of(
            http.post(path, json={"name": "n" * length, "color": "#ff0000"}, headers=owner(site)),
            422,
        )
        assert (error["code"], error["message"]) == (
            "invalid_label_name",
            "name: 1 to 40 characters",
        )
    error = error_of(
        http.post(path, json={"name": "vip", "color": "#" + "f" * 30}, headers=owner(site)), 422
    )
    assert (error["code"], error["message"]) == (
        "invalid_color",
        "color: #rrggbb, six hexadecimal digits",
    )
    assert http.get(path, headers=owner(site)).json() == {"labels": []}


def test_the_openapi_document_shows_the_true_limits(http: httpx.Client) -> None:
    schemas = http.get("/api/v1/openapi.json").json()["components"]["schemas"]
    assert schemas["LabelIn"]["properties"]["name"]["maxLength"] == 40
    reply = schemas["ReplyIn"]["properties"]
    assert (reply["shortcut"]["maxLength"], reply["title"]["maxLength"]) == (32, 100)
    assert reply["body"]["maxLength"] == 10_000


# -- reports: Accept is negotiated ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "csv"),
    [
        ("text/csv", True),
        ("text/csv, */*", True),
        ("text/csv;q=0.9, application/json;q=0.5", True),
        ("text/csv;q=0.5, */*;q=0.1", True),
        ("text/csv;q=0", False),
        ("text/csv;q=0.5, application/json", False),
        ("application/json, text/csv;q=0.8", False),
        ("*/*", False),
        ("text/*", False),
        ("", False),
    ],
)
def test_a_report_is_csv_only_when_accept_prefers_it(
    http: httpx.Client, site: Site, accept: str, csv: bool
) -> None:
    response = http.get(
        f"/api/v1/websites/{site.website_id}/reports?from=2026-01-01&to=2026-01-02",
        headers=owner(site) | {"Accept": accept},
    )
    assert response.status_code == 200, response.text
    kind = response.headers["content-type"].split(";")[0]
    assert kind == ("text/csv" if csv else "application/json"), accept
    if csv:
        assert response.text.splitlines()[1].startswith("2026-01-01,")
    else:
        assert [day["date"] for day in response.json()["days"]] == ["2026-01-01", "2026-01-02"]


@pytest.mark.parametrize("tz", ["UTC", "Pacific/Kiritimati", "America/New_York"])
def test_a_report_at_the_edges_of_the_calendar_is_a_422_never_a_500(
    http: httpx.Client, site: Site, tz: str
) -> None:
    """`from=0001-01-01` or `to=9999-12-31` (and `to=0001-01-05` alone: the 30 days before)
    were 500s: the period before it, a zone's offset or the day after ran off the calendar."""
    path = f"/api/v1/websites/{site.website_id}/reports"

    def ask(query: str) -> httpx.Response:
        return http.get(f"{path}?{query}&tz={tz}", headers=owner(site))

    for query, name, day in (
        ("from=0001-01-01&to=0001-01-01", "from", "0001-01-01"),
        ("from=1969-12-31&to=1970-01-01", "from", "1969-12-31"),
        ("from=9999-12-31&to=9999-12-31", "from", "9999-12-31"),
        ("from=2999-12-31&to=3000-01-01", "to", "3000-01-01"),
        ("to=0001-01-05", "to", "0001-01-05"),
    ):
        assert error_of(ask(query), 422) == {
            "code": "invalid_date",
            "message": f"{name} must be a day from 1970-01-01 to 2999-12-31, not {day}",
        }, query
    for query, first, last in (
        ("from=1970-01-01&to=1970-01-01", "1970-01-01", "1970-01-01"),
        ("from=2999-12-31&to=2999-12-31", "2999-12-31", "2999-12-31"),
        ("to=1970-01-05", "1970-01-01", "1970-01-05"),
    ):
        answer = ask(query)
        assert answer.status_code == 200, (query, answer.text)
        assert (answer.json()["from"], answer.json()["to"]) == (first, last)
        csv = http.get(f"{path}?{query}&tz={tz}", headers=owner(site) | {"Accept": "text/csv"})
        assert csv.status_code == 200, csv.text


# -- push subscriptions: private targets are refused at once -------------------------------------


PRIVATE_ENDPOINTS = [
    "https://169.254.169.254/latest/meta-data",
    "https://metadata.google.internal/computeMetadata",
    "https://localhost/push",
    "https://127.0.0.1:8443/push",
    "https://2130706433/push",
    "https://[::1]/push",
    "https://10.0.0.7/push",
    "https://pushserver/push",  # no domain: the server's own network
]


def test_a_push_subscription_to_a_private_target_is_refused_naming_the_endpoint(
    http: httpx.Client, site: Site
) -> None:
    browser = Browser()
    keys = {"p256dh": browser.p256dh, "auth": b64(browser.auth)}
    for endpoint in PRIVATE_ENDPOINTS:
        response = http.post(
            "/api/v1/push/subscriptions",
            json={"endpoint": endpoint, "keys": keys},
            headers=owner(site),
        )
        error = error_of(response, 422)
        assert error["code"] == "invalid_subscription", endpoint
        assert error["message"].startswith("endpoint: "), error
        assert "CAUSERIE_PUSH_ALLOW_PRIVATE" in error["message"]
    assert http.get("/api/v1/push/subscriptions", headers=owner(site)).json() == {
        "subscriptions": []
    }
    public = http.post(
        "/api/v1/push/subscriptions",
        json={"endpoint": "https://push.example/send/abc", "keys": keys},
        headers=owner(site),
    )
    assert public.status_code == 201, public.text


# -- CAUSERIE_SMTP_URL ---------------------------------------------------------------------------


class _WireSink:
    """An SMTP server on loopback that keeps each mail's bytes as they came over the wire."""

    def __init__(self) -> None:
        self.received: list[bytes] = []

    async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: Envelope) -> str:
        self.received.append(envelope.original_content or b"")
        return "250 OK"


_SINK_PORT = free_port()
_MAILING = {
    "smtp_url": f"smtp://127.0.0.1:{_SINK_PORT}",
    "mail_from": "Shop chat <chat@shop.example>",
    "mail_domain": "reply.shop.example",
    "public_url": "https://chat.shop.example",
}


@pytest.mark.parametrize("settings", [_MAILING], ids=["mailing"], indirect=True)
def test_list_unsubscribe_goes_over_the_wire_as_a_url_rfc_2369_readers_find(
    harness: Harness, site: Site, clock: ManualClock
) -> None:
    """It went as `List-Unsubscribe: =?utf-8?q?=3Chttps=3A//...?=`: a header longer than 78
    characters folded into encoded words, which mail clients do not decode in that header, so
    their one-click unsubscribe found no URL (the tests parsed the mail back, which decodes)."""
    handler = _WireSink()
    controller = Controller(handler, hostname="127.0.0.1", port=_SINK_PORT)
    controller.start()
    try:
        open_visitor(harness, site, None, "Open on Sunday?")
        clock.advance(timedelta(minutes=3))
        run_due(harness)
    finally:
        controller.stop()
    assert handler.received
    for raw in handler.received:
        headers = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
        assert "=?utf-8?" not in headers, headers
        unsubscribe = re.search(r"^List-Unsubscribe: <([^>\r\n]+)>\r?$", headers, re.M)
        assert unsubscribe, headers
        assert unsubscribe.group(1).startswith("https://chat.shop.example/mail/unsubscribe/")
        reply_to = re.search(r"^Reply-To: (reply\+\w+@reply\.shop\.example)\r?$", headers, re.M)
        assert reply_to, headers
        assert max(len(line) for line in raw.split(b"\r\n")) <= 998


def _smtp_error(tmp_path: Path, url: str) -> str:
    with pytest.raises(SettingsError) as caught:
        load_settings(environ={"CAUSERIE_DATA_DIR": str(tmp_path), "CAUSERIE_SMTP_URL": url})
    message = str(caught.value)
    assert message.startswith("CAUSERIE_SMTP_URL (value hidden) (from the environment): ")
    assert "secret" not in message
    return message.split(": ", 1)[1]


def test_smtps_with_starttls_is_refused_at_start(tmp_path: Path) -> None:
    """aiosmtplib refuses `use_tls` with `start_tls`: every mail failed, the server started."""
    assert _smtp_error(tmp_path, "smtps://u:secret@mail.example?starttls=true") == (
        "?starttls=true goes with smtp:// (smtps:// speaks TLS from the start): "
        "use one or the other"
    )
    for url in (
        "smtp://u:secret@mail.example:587?starttls=true",
        "smtps://u:secret@mail.example",
        "smtps://u:secret@mail.example?starttls=false",
        "smtp://mail.example",
    ):
        env = {"CAUSERIE_DATA_DIR": str(tmp_path), "CAUSERIE_SMTP_URL": url}
        assert load_settings(environ=env).smtp_url == url


@pytest.mark.parametrize("port", ["0", "65536", "99999", "smtp"])
def test_an_smtp_port_out_of_range_is_named_as_such(tmp_path: Path, port: str) -> None:
    assert _smtp_error(tmp_path, f"smtp://u:secret@mail.example:{port}") == (
        "the port must be a number from 1 to 65535"
    )


# -- causerie jobs list: ids whole at any width --------------------------------------------------


def test_jobs_list_at_80_columns_shows_every_id_whole(
    tmp_path: Path, database_url: str, harness: Harness
) -> None:
    """A pipe gets 80 columns from rich: the ids were cut to `j2dn6ac233d…`."""
    queued, failed = queued_and_failed_jobs(harness)
    narrow = Cli(tmp_path, database_url, COLUMNS="80")
    table = narrow.ok("jobs", "list")
    assert queued in table and failed in table
    assert max(len(line) for line in table.splitlines()) <= 80
    website_id = site_of(narrow)
    operators = narrow.ok("operator", "list")
    assert website_id in operators  # the operator's website, whole too


def site_of(cli: Cli) -> str:
    """A website with an owner: the operators' table (two ids, an email) is wider than 80."""
    added = cli.ok("website", "add", "Shop", "--origin", "https://shop.example")
    website_id = added.split("website id: ", 1)[1].split()[0]
    cli.ok("operator", "add", "owner@shop.example", "--website", website_id, "--role", "owner")
    assert website_id in cli.ok("website", "list")
    return website_id


# -- block rules: expires_at is an ISO 8601 time, answered in UTC --------------------------------


def test_a_block_expiry_given_as_a_number_is_refused_naming_it(
    http: httpx.Client, site: Site
) -> None:
    """`1900000000` was read as seconds since 1970 and `99999999999999` as milliseconds (year
    5138); `"1900000000"` too. The wire's times are ISO 8601. The year 9999 west of UTC was a
    500 (the store's conversion to UTC overflowed)."""
    path = f"/api/v1/websites/{site.website_id}/blocks"
    for expiry in (1900000000, 99999999999999, 1.9e9, "1900000000", True, "tomorrow"):
        body = {"kind": "address", "value": "198.51.100.9", "reason": "spam", "expires_at": expiry}
        error = error_of(http.post(path, json=body, headers=owner(site)), 422)
        assert error == {
            "code": "invalid_request",
            "message": "expires_at: an ISO 8601 time such as 2030-01-01T00:00:00Z",
        }, expiry
    west = {"kind": "address", "value": "198.51.100.9", "reason": "r"}
    error = error_of(
        http.post(
            path, json=west | {"expires_at": "9999-12-31T23:00:00-05:00"}, headers=owner(site)
        ),
        422,
    )
    assert error["message"].startswith("expires_at: ")
    assert http.get(path, headers=owner(site)).json() == {"blocks": []}


@pytest.mark.parametrize(
    ("given", "answered"),
    [
        ("2030-01-01T00:00:00+05:00", "2029-12-31T19:00:00Z"),
        ("2030-01-01T00:00:00Z", "2030-01-01T00:00:00Z"),
        ("2030-01-01T00:00:00", "2030-01-01T00:00:00Z"),
        ("2030-01-01", "2030-01-01T00:00:00Z"),
    ],
)
def test_a_block_expiry_is_answered_in_utc(
    http: httpx.Client, site: Site, given: str, answered: str
) -> None:
    """An expiry with an offset was answered with it (`+05:00`), where the wire says UTC."""
    path = f"/api/v1/websites/{site.website_id}/blocks"
    body = {"kind": "address", "value": "198.51.100.9", "reason": "spam", "expires_at": given}
    made = http.post(path, json=body, headers=owner(site))
    assert made.status_code == 201, made.text
    assert made.json()["block"]["expires_at"] == answered
    (listed,) = http.get(path, headers=owner(site)).json()["blocks"]
    assert listed["expires_at"] == answered


# -- another website's id, as an unknown one -----------------------------------------------------


def test_another_websites_mail_failures_answer_website_not_found(
    http: httpx.Client, site: Site
) -> None:
    """Every website route answers `website_not_found`; this one said `not_found`, "no such
    object"."""
    for website_id in (site.other_website_id, "nosuchwebsite"):
        response = http.get(f"/api/v1/websites/{website_id}/mail/failures", headers=owner(site))
        assert error_of(response, 404) == {
            "code": "website_not_found",
            "message": f"no website '{website_id}'",
        }
    mine = http.get(f"/api/v1/websites/{site.website_id}/mail/failures", headers=owner(site))
    assert mine.json() == {"failures": []}


# -- durations: at most 100 years ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "text"),
    [
        ("CAUSERIE_CHAT_IP_RETENTION", "999999999d"),
        ("CAUSERIE_CONVERSATION_RETENTION", "3000000d"),
        ("CAUSERIE_TEMPORARY_SESSION_TTL", "36501d"),
        ("CAUSERIE_COOKIE_MAX_AGE", "99999999999d"),
        ("CAUSERIE_NOTIFY_DELAY", "999999999d"),
    ],
)
def test_a_duration_past_100_years_is_a_bad_setting_not_a_traceback(
    tmp_path: Path, variable: str, text: str
) -> None:
    """`now - 999999999d` ran off the calendar: `causerie purge` died with an OverflowError
    (status 1), `CAUSERIE_COOKIE_MAX_AGE=99999999999d` overflowed a C int; a delay that long was
    taken, and the mail job a visitor's first message queues (`now + delay`) would overflow in
    that message's transaction."""
    cli = Cli(tmp_path, None, **{variable: text})
    result = cli("purge", "--dry-run")
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"causerie: bad setting: {variable} = '{text}' (from the environment): ")
    assert "expected at most 36500d (100 years)" in line
    assert load_settings(
        environ={"CAUSERIE_DATA_DIR": str(tmp_path / "data"), variable: "36500d"}
    ).data_dir == (tmp_path / "data")


# -- paged lists: a cursor a client made up ------------------------------------------------------


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "made_up",
    [
        "9999-12-31T23:59:59-05:00|abc",  # past the calendar once in UTC: was a 500
        "0001-01-01T00:00:00+05:00|abc",  # before it: was a 500
        "2026-12-07T16:51:35+00:00|a\x00b",  # a NUL: reached the database
        "2026-12-07T16:51:35+00:00|'; DROP TABLE messages;--",
        "2026-12-07T16:51:35|abc",  # no offset
    ],
)
def test_a_made_up_cursor_is_invalid_cursor_on_every_paged_list(
    http: httpx.Client, site: Site, made_up: str
) -> None:
    for path in ("conversations", "audit"):
        response = http.get(
            f"/api/v1/websites/{site.website_id}/{path}",
            params={"cursor": _cursor(made_up)},
            headers=owner(site),
        )
        assert error_of(response, 422) == {
            "code": "invalid_cursor",
            "message": "cursor: not a cursor this API gave",
        }, (path, made_up)


def test_the_cursors_the_api_gives_still_page(http: httpx.Client, site: Site) -> None:
    for _ in range(3):
        token = open_session(http, site.website_id).json()["token"]
        send(http, token, "hello")
    path = f"/api/v1/websites/{site.website_id}/conversations"
    first = http.get(path, params={"limit": 2}, headers=owner(site)).json()
    rest = http.get(
        path, params={"limit": 2, "cursor": first["next_cursor"]}, headers=owner(site)
    ).json()
    ids = [c["id"] for c in first["conversations"] + rest["conversations"]]
    assert len(ids) == len(set(ids)) == 3
    audit = f"/api/v1/websites/{site.website_id}/audit"
    page = http.get(audit, params={"limit": 1}, headers=owner(site)).json()
    if page.get("next_cursor"):
        more = http.get(audit, params={"cursor": page["next_cursor"]}, headers=owner(site))
        assert more.status_code == 200, more.text
