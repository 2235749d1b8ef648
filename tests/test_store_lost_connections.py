"""PostgreSQL connections that die without their socket closing (store/postgres.py, `Reads`).

PostgreSQL's host restarted or failed over at the same address, or a network partition healed:
the pool's connections look alive (no goodbye reached them, so the check at checkout passes
them) and are found dead only when a statement is sent, which the new host answers with a reset.
Here a TCP relay between the server and a real PostgreSQL loses its connections that way
(tests/relay_support.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy.exc import DBAPIError

from causerie.settings import Settings
from causerie.store.database import open_store
from causerie.store.failures import is_storage_failure
from tests import relay_support
from tests.conftest import ServerThread, Site
from tests.relay_support import Relay, through
from tests.support import new_visitor, say

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
relay = relay_support.relay  # the fixture


def test_a_read_on_a_connection_lost_without_a_word_is_served_on_a_new_one(
    relay: Relay,  # first: it closes after the server
    make_settings: Callable[..., Settings],
    start_server: Callable[[Settings], ServerThread],
    database_url: str,
    site: Site,
) -> None:
    server = start_server(make_settings(database_url=through(database_url, relay)))
    path = "/api/widget/v1/session/messages"
    with httpx.Client(base_url=server.url, timeout=10) as http:
        visitor = new_visitor(http, site.website_id)
        say(http, visitor, "hello")
        assert http.get(path, headers=visitor.headers()).status_code == 200
        assert relay.lose_all() >= 1
        answer = http.get(path, headers=visitor.headers())
        assert answer.status_code == 200, answer.text  # was 503 storage_unavailable
        assert [m["body"] for m in answer.json()["messages"]] == ["hello"]
        # The pool's other connections, as old, were replaced too: a write goes through.
        say(http, visitor, "still here")
        again = http.get(path, headers=visitor.headers()).json()["messages"]
        assert [m["body"] for m in again] == ["hello", "still here"]


def test_a_transaction_on_a_connection_lost_without_a_word_is_never_run_again(
    relay: Relay, database_url: str, site: Site
) -> None:
    """A transaction's statements may have committed before its connection was lost: the store
    lets the failure through (503 `storage_unavailable` on the way out) and the client sends it
    again (with the same client_id). The pool's other connections, as old, are replaced."""

    async def run() -> tuple[BaseException | None, bool]:
        store = open_store(through(database_url, relay))
        failure = None
        try:
            async with store.read() as tx:
                assert await tx.websites.get(site.website_id) is not None
            assert relay.lose_all() >= 1
            try:
                async with store.transaction() as tx:
                    await tx.websites.get(site.website_id)
            except DBAPIError as exc:
                failure = exc
            async with store.transaction() as tx:
                found = await tx.websites.get(site.website_id) is not None
            return failure, found
        finally:
            await store.close()

    failure, found = asyncio.run(run())
    assert isinstance(failure, DBAPIError), "the transaction was run again"
    assert failure.connection_invalidated
    assert is_storage_failure(failure)
    assert found
