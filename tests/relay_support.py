"""A TCP relay between a server (or a store) and a real PostgreSQL that loses its connections
without a word (`Relay.lose_all`): the PostgreSQL side is closed, the server's side stays open and
silent, and the next bytes the server sends on it are answered with a reset, as when PostgreSQL's
host restarted or failed over at the same address. A relay of its own, in this process: dropping
packets on the machine's own interface would need root. Its fixture (`relay`) is taken by name:
`relay = relay_support.relay` (tests/test_store_lost_connections.py, test_store_early_commit.py).
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import make_url


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
