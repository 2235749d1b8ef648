"""`causerie jobs` and the listing commands used from outside (ninth outside audit, branch audit9;
SPEC.md "Background work"): what they print is data, shown as it is.

rich reads `[...]` in what it prints as its markup: a push service that answered 500 with the
reason phrase `[/bold] busy` (its answer is kept in the job's last error) made `causerie jobs list`
end in a traceback (MarkupError), as did a website named `Shop [/b]` for `causerie website list`,
and `causerie jobs retry '[/x]'` for the one line an unknown id gets; `[bold]abc` was answered
"no job 'abc'", another id than the one typed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from aiohttp import web

from causerie.actions.websites import do_update_website
from causerie.domain.models import Actor
from causerie.settings import Settings
from tests.cli_support import Cli
from tests.conftest import Harness, Site
from tests.test_push import PushService, run_jobs, subscribe, visitor_writes

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

MARKUP = "[/bold] busy [red]today"


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(push_allow_private="true")  # the push service listens on loopback


class RefusingPushService(PushService):
    """A push service that answers 500 with a reason phrase of its choosing."""

    async def _take(self, request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=500, reason=MARKUP)


@pytest.fixture
def refusing(harness: Harness) -> Iterator[RefusingPushService]:
    service = RefusingPushService(harness)
    yield service
    service.close()


@pytest.fixture
def cli(tmp_path: Path, database_url: str) -> Cli:
    return Cli(tmp_path, database_url, COLUMNS="250")


def test_a_push_services_answer_in_a_jobs_error_is_listed_as_it_is(
    harness: Harness, site: Site, refusing: RefusingPushService, cli: Cli
) -> None:
    subscribe(harness, site, refusing)
    visitor_writes(harness, site, "Hello?")
    run_jobs(harness)  # agents.notify queues the push; its first attempt fails

    queued = json.loads(cli.ok("jobs", "list", "--state", "queued", "--json"))
    (job,) = [job for job in queued if job["kind"] == "push.send"]
    assert job["attempts"] == 1
    assert job["last_error"].endswith(MARKUP)
    assert set(job) == {"id", "kind", "state", "attempts", "run_at", "last_error"}
    listed = cli("jobs", "list")
    assert listed.returncode == 0 and listed.stderr == "", listed.stderr
    assert MARKUP in listed.stdout and job["id"] in listed.stdout


@pytest.mark.parametrize("typed", ["[/x]", "[bold]abc", "[red]"])
def test_an_unknown_job_id_with_brackets_is_one_line_naming_it(cli: Cli, typed: str) -> None:
    refused = cli("jobs", "retry", typed)
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr == f"causerie: no job '{typed}'\n"


def test_a_website_named_with_brackets_is_listed_as_named(
    harness: Harness, site: Site, cli: Cli
) -> None:
    owner = Actor("operator", operator_id=site.operator_ids["owner"])
    harness.run(
        do_update_website(
            harness.rt, owner, site.website_id, name="Shop [/b] [red]", origins=None, settings=None
        )
    )
    listed = cli("website", "list")
    assert listed.returncode == 0, listed.stderr
    assert "Shop [/b] [red]" in listed.stdout
