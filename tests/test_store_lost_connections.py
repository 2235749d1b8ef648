"""PostgreSQL connections that die without their socket closing (store/postgres.py, `Reads`).

PostgreSQL's host restarted or failed over at the same address, or a network partition healed:
the pool's connections look alive (no goodbye reached them, so the check at checkout passes
them) and are found dead only when a statement is sent, which the new host answers with a reset.
Here a TCP relay between the server and a real PostgreSQL loses its connections that way
(`Relay.lose_all`): the PostgreSQL side is closed, the server's side stays open and silent, and
the next bytes the server sends on it are answered with a reset. A relay of its own, in this
process: dropping packets on the machine's own interface would need root.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Callable, Iterator

import httpx
import pytest
from sqlalchemy import make_url
from sqlalchemy.exc import DBAPIError

from causerie.settings import Settings
from causerie.store.database import open_store
from causerie.store.failures import is_storage_failure
from tests.conftest import ServerThread, Site
from tests.support import new_visitor, say

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


class _Pair:
    """One connection through the relay: the server's side and PostgreSQL's."""

    def __init__(self, near: socket.socket, far: socket.socket) -> None:
        self.near, self.far = near, far
        self.lost = False

    def forward(self) -> None:
        """The server's bytes to PostgreSQL; once lost, the next ones get a reset."""
        while data := _recv(self.near):
            if self.lost:
                # Closed at once with nothing to send: the kernel answers with a reset (RST).
                self.near.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.near.close()
                return
            self.far.sendall(data)
        _shut(self.far)

    def back(self) -> None:
        """PostgreSQL's bytes to the server; once lost, nothing: not even the end."""
        while data := _recv(self.far):
            self.near.sendall(data)
        if not self.lost:
            _shut(self.near)

    def lose(self) -> None:
        self.lost = True
        _shut(self.far)  # PostgreSQL ends the backend; the server is not told


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(65536)
    except OSError:
        return b""


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class Relay:
    """A TCP relay on 127.0.0.1 to PostgreSQL at `target`."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.pairs: list[_Pair] = []
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                near, _ = self.listener.accept()
            except OSError:
                return
            pair = _Pair(near, socket.create_connection(self.target, timeout=10))
            pair.far.settimeout(None)
            with self._lock:
                if self._closed:  # a connection that came in as the relay closed
                    near.close()
                    pair.far.close()
                    return
                self.pairs.append(pair)
            threading.Thread(target=pair.forward, daemon=True).start()
            threading.Thread(target=pair.back, daemon=True).start()

    def lose_all(self) -> int:
        """Every connection open now lost without a word to the server; how many."""
        with self._lock:
            pairs = [p for p in self.pairs if not p.lost]
        for pair in pairs:
            pair.lose()
        return len(pairs)

    def close(self) -> None:
        self.listener.close()
        with self._lock:
            self._closed = True
            for pair in self.pairs:
                for sock in (pair.near, pair.far):
                    _shut(sock)
                    sock.close()


@pytest.fixture
def relay(database_url: str) -> Iterator[Relay]:
    url = make_url(database_url)
    relay = Relay((url.host or "127.0.0.1", url.port or 5432))
    yield relay
    relay.close()


def through(database_url: str, relay: Relay) -> str:
    """`database_url` by way of the relay."""
    url = make_url(database_url).set(host="127.0.0.1", port=relay.port)
    return url.render_as_string(hide_password=False)


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
