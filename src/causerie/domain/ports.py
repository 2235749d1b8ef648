"""The interfaces the domain needs from storage; `causerie.store` implements them.

A `Tx` is one database transaction. Callbacks given to `on_commit` run after it commits and
are dropped if it rolls back: that is where events are published (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Collection,
    Sequence,
)
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from causerie.domain.events import Envelope
from causerie.domain.files import StoredFile
from causerie.domain.push import PushOutcome, PushSubscription
from causerie.domain.repositories.api_tokens import ApiTokens
from causerie.domain.repositories.audit import Audit
from causerie.domain.repositories.conversations import Conversations
from causerie.domain.repositories.dpa import DpaAcceptances
from causerie.domain.repositories.events import Events
from causerie.domain.repositories.files import Files
from causerie.domain.repositories.jobs import Jobs
from causerie.domain.repositories.labels import Labels
from causerie.domain.repositories.links import Links
from causerie.domain.repositories.logins import Logins
from causerie.domain.repositories.mail import MailState
from causerie.domain.repositories.members import Members
from causerie.domain.repositories.messages import Messages
from causerie.domain.repositories.operators import Operators
from causerie.domain.repositories.push import PushSubscriptions
from causerie.domain.repositories.ratings import Ratings
from causerie.domain.repositories.replies import CannedReplies
from causerie.domain.repositories.reports import Reports
from causerie.domain.repositories.retention import Retention
from causerie.domain.repositories.sessions import Sessions
from causerie.domain.repositories.shield import ShieldStore
from causerie.domain.repositories.stats import Stats
from causerie.domain.repositories.teams import Teams
from causerie.domain.repositories.webhooks import Webhooks
from causerie.domain.repositories.websites import Websites
from causerie.domain.webhooks import Answer

T = TypeVar("T")


class TransactionLost(Exception):
    """A part of a transaction failed and could not be undone alone (`Tx.savepoint`): the
    database dropped the whole transaction (SQLite does on a full disk), so nothing of it will
    commit. Raised from the error that caused it."""


class TransactionRaced(TransactionLost):
    """The database ended the whole transaction to break a deadlock with another one, or a
    serialization conflict (PostgreSQL's 40P01 and 40001): nothing of it committed, and running
    it again once the other has gone its way may succeed (`actions/batches.py` does)."""


class PartNotUndone(Exception):
    """A part run without a savepoint (`Tx.part`) raised after sending the database a statement
    that only rolling back the whole transaction can undo. `error`: what the part raised (as a
    savepoint's rollback would have passed it on)."""

    def __init__(self, error: Exception) -> None:
        super().__init__(f"a part failed after writing: {error!r}")
        self.error = error


class Tx(Protocol):
    """One transaction, and the repositories of each area reached through it (`tx.sessions`,
    `tx.messages`, ...), all on its one connection."""

    websites: Websites
    operators: Operators
    members: Members
    logins: Logins
    links: Links
    api_tokens: ApiTokens
    sessions: Sessions
    conversations: Conversations
    messages: Messages
    events: Events
    retention: Retention
    stats: Stats
    shield: ShieldStore
    audit: Audit
    dpa: DpaAcceptances
    jobs: Jobs
    replies: CannedReplies
    labels: Labels
    push: PushSubscriptions
    mail: MailState
    files: Files
    webhooks: Webhooks
    teams: Teams
    ratings: Ratings
    reports: Reports

    def on_commit(self, callback: Callable[[], None]) -> None: ...

    def commit_early(self, lost: Callable[[Exception], None]) -> bool:
        """Ask that the commit not wait for the disk, where the store can (PostgreSQL): the
        `async with` then returns once the transaction is committed (its writes visible, its
        locks released), and the next transaction may run while it is made durable. Its
        `on_commit` callbacks run only once it is, in the order transactions committed; if
        that cannot be known (a lost connection), `lost` runs with the error instead, and the
        transaction may or may not have survived. Whether the store does so: where it does not
        (SQLite), the transaction ends durable as any other, and nothing changes."""
        ...

    def savepoint(self) -> AbstractAsyncContextManager[None]:
        """A part of the transaction undone alone if it raises: its writes and its `on_commit`
        callbacks are dropped, the exception goes on, and the transaction stays usable."""
        ...

    def part(self) -> AbstractAsyncContextManager[None]:
        """A part of a batch run without a savepoint (no statement of its own). If it raises
        having sent no statement but reads that succeeded, it is undone alone as in `savepoint`
        and its exception goes on; otherwise `PartNotUndone` is raised from it: the transaction
        is no longer as the earlier parts left it, and must be rolled back whole."""
        ...

    async def flush(self) -> None:
        """Write now what the transaction held back for its commit (store/pending.py): in a
        `part`, so that a row the database refuses then runs the batch again."""
        ...


class Batches(Protocol):
    """Writes of one lane (a website) that arrive together, run in one transaction and
    committed once (actions/batches.py `Batcher`, docs/realtime.md "Durability and group
    commit")."""

    async def run(
        self,
        store: Store,
        lane: str,
        part: Callable[[Tx], Awaitable[T]],
        ahead: tuple[Callable[[Tx, list[str]], Awaitable[None]], str] | None = None,
        bulk: tuple[Callable[[Tx, list[Any]], Awaitable[list[tuple[bool, Any]]]], Any]
        | None = None,
    ) -> T:
        """`part` in the lane's next transaction, undone alone if it fails; its result once that
        transaction committed. Its own error, or the transaction's, is raised here. `ahead`:
        `(read, key)`, a read the part will make; the transaction calls `read` once with the
        keys of all its parts that gave it, before they run (it fails them all if it raises).
        `bulk`: `(run, item)`, the part's bulk form: consecutive parts of one `run` may be
        handed to it together, their items in, the outcomes `(ok, result or error)` of a
        prefix of them out, each as its part would give it."""
        ...

    async def idle(self) -> None:
        """Until every batch under way has committed or failed."""
        ...


class Broker(Protocol):
    """Publish/subscribe between the nodes of one deployment (docs/realtime.md).

    Delivery is at most once and may miss messages while a connection is down: `on_reconnect`
    tells the node to catch up from the event log, which is the source of truth.
    """

    async def start(
        self, on_message: Callable[[str, bytes], None], on_reconnect: Callable[[], None]
    ) -> None: ...
    async def publish(self, channel: str, payload: bytes) -> None: ...
    async def subscribe(self, channel: str) -> None: ...
    async def unsubscribe(self, channel: str) -> None: ...
    async def close(self) -> None: ...


class Follower(Protocol):
    """A socket's side of a stream: takes the events the hub hands it (realtime/follower.py)."""

    def offer(self, envelope: Envelope) -> None:
        """Take an event for delivery; must not block (a full follower drops its socket)."""
        ...

    def resync(self) -> None:
        """Events may have been missed (the broker reconnected): catch up from the event log."""
        ...


class Guard(Protocol):
    """An agent socket's watch over its access (realtime/guard.py, docs/realtime.md "When access
    ends")."""

    def revoke(self, code: str) -> None:
        """The access this guard watches ended (on some node): end its socket. Must not block."""
        ...


class Hub(Protocol):
    """This node's streams: publishing after commit to every node, and the local sockets that
    follow each stream (realtime/hub.py, docs/realtime.md). Publishing never blocks: frames are
    queued and leave the node in order once `start` ran."""

    async def start(self) -> None: ...
    async def close(self) -> None:
        """Let what was published reach the broker (briefly), then disconnect."""
        ...

    def publish(self, channel: str, frame: dict[str, Any]) -> None: ...
    def publish_text(self, channel: str, text: str) -> None:
        """`publish` for a frame already encoded (`domain.events.encode`)."""
        ...

    def publisher(self, channel: str, frame: dict[str, Any]) -> Callable[[], None]:
        """A callback publishing `frame`, for `tx.on_commit`."""
        ...

    def publisher_of(self, frames: list[tuple[str, str]]) -> Callable[[], None]:
        """A callback publishing each `(channel, frame's JSON text)` in order, for
        `tx.on_commit`: frames encoded once by their emitter (`domain.events.frame_text`)."""
        ...

    async def follow(self, channel: str, follower: Follower) -> None: ...
    async def unfollow(self, channel: str, follower: Follower) -> None: ...
    def guard(self, keys: tuple[str, ...], guard: Guard) -> None:
        """Have `guard` revoked when an `access.ended` event names one of `keys`."""
        ...

    def unguard(self, keys: tuple[str, ...], guard: Guard) -> None: ...
    def guarded(self) -> int:
        """How many revocation keys this node's sockets are guarded by."""
        ...

    def following(self, channel: str) -> int: ...
    def channels(self, prefix: str = "") -> list[str]:
        """The channels this node's sockets follow (those starting with `prefix`)."""
        ...


def agent_connection_id(operator_id: str, random_id: str) -> str:
    """The presence key of one agent socket: whose it is, then which."""
    return f"{operator_id}.{random_id}"


def operator_of_connection(connection_id: str) -> str:
    """Whose agent socket `connection_id` is (`agent_connection_id`'s operator id)."""
    return connection_id.partition(".")[0]


class Presence(Protocol):
    """Who is connected now, across nodes: agents (online or away) and visitors, per website.

    Entries belong to one connection; a node that dies without cleaning up has its entries
    expire within `ttl` seconds, since live nodes `refresh` theirs periodically.
    """

    async def set_agent(self, website_id: str, connection_id: str, status: str | None) -> None:
        """An agent socket's status (None: gone). Its `connection_id` is
        `agent_connection_id(operator_id)`: the operator's id, a dot, a random id."""
        ...

    async def website_online(self, website_id: str) -> bool: ...
    async def agent_connected(self, website_id: str, operator_id: str) -> bool:
        """Whether the operator has a socket open on the website (online or away)."""
        ...

    async def agents_online(self, website_id: str) -> set[str]:
        """The ids of the operators with a socket `online` on the website (assignment)."""
        ...

    async def set_visitor(
        self, website_id: str, connection_id: str, info: dict[str, Any] | None
    ) -> None: ...
    async def visitors_online(self, website_id: str) -> list[dict[str, Any]]: ...
    async def refresh(self) -> None: ...
    async def close(self) -> None: ...


class Counters(Protocol):
    """Hits per key in fixed windows of the caller's clock (rate limits), shared across nodes
    when backed by Redis."""

    async def hit(self, key: str, now: datetime, window: timedelta) -> int:
        """Count one more hit in the window `now` falls in; returns the window's count."""
        ...

    async def count(self, key: str, now: datetime, window: timedelta) -> int: ...

    async def release(self, key: str, now: datetime, window: timedelta) -> None:
        """Take back one hit of the window `now` falls in (never below zero)."""
        ...

    async def reset(self, key: str) -> None: ...

    async def take(self, key: str, now: datetime, rate: float, burst: float) -> float:
        """A token bucket: take one token from `key`'s bucket, which refills at `rate` a second up
        to `burst`. Returns 0 when taken, else the seconds until a token is there (none taken)."""
        ...

    async def take_each(
        self, buckets: Sequence[tuple[str, float, float]], now: datetime
    ) -> tuple[int, float]:
        """`take` from each `(key, rate, burst)` in order until one has no token: (its index, the
        seconds until it has one), nothing taken from it or the buckets after it; (-1, 0.0) when
        every one gave its token. Where the counters are shared, one round trip for them all."""
        ...

    async def score(self, key: str, now: datetime, add: float, half_life: timedelta) -> float:
        """A score that halves every `half_life`: add `add` (0 only reads) and return it."""
        ...

    async def close(self) -> None: ...


class Aggregates(Protocol):
    """The shield's per-network counts (P18) per fixed window of `AGGREGATE_WINDOW`: keyed by a
    network's keyed hash, never an address. In Redis with a TTL when it is configured, else in
    the store. Counting never fails a request: while the counts cannot be written they are lost."""

    async def add(self, network: str, metric: str, now: datetime, n: int = 1) -> None: ...

    async def read(self, since: datetime, now: datetime) -> list[tuple[datetime, str, str, int]]:
        """(window start, network, metric, count) of the windows from `since` to `now`."""
        ...

    async def close(self) -> None: ...


class Store(Protocol):
    def transaction(self, durable: bool = True) -> AbstractAsyncContextManager[Tx]:
        """One transaction. `durable=False` for writes that need not survive a power cut
        (a temporary session, a last-access touch): their commit skips the fsync."""
        ...

    def read(self) -> AbstractAsyncContextManager[Tx]:
        """Statements that only read, outside any transaction: no commit to wait for. Short,
        indexed ones: on SQLite they run on the event loop's thread."""
        ...

    def long_read(self) -> AbstractAsyncContextManager[Tx]:
        """Reads that may run long (searches, exports, reports, the purge's selection), without
        holding the event loop meanwhile: on SQLite a read-only connection used from a worker
        thread, on PostgreSQL a pooled connection. It sees what was committed (never an open
        transaction's writes) and runs while a write transaction is open; it cannot write."""
        ...

    async def made_durable(self) -> None:
        """Return once every commit made before the call, by this node or another, is on disk.
        Work that sends rows it read outward (a mail, a push, a webhook) waits for it between
        its reads and its send: on PostgreSQL another node's batch is visible from its early
        commit, a few ms before it is durable (docs/realtime.md, "Early commits on
        PostgreSQL"). A round trip without an fsync when the WAL is on disk already; on
        SQLite, a wait for the group of transactions still open, whose rows a read between
        writers' turns sees before its commit."""
        ...

    async def after_purge(self) -> None:
        """Make removed rows unrecoverable from the database files at once where the store can
        (SQLite: checkpoint the WAL); what takes long is `rebuild_search_indexes`, run as a job."""
        ...

    async def rebuild_search_indexes(self) -> list[str]:
        """Rebuild the search indexes that kept keys of deleted text (PostgreSQL's trigram
        indexes; SQLite has none); the names rebuilt."""
        ...

    async def close(self) -> None: ...


class FileReader(Protocol):
    """An opened stored file: its size, then its bytes in chunks of at most `files.CHUNK_SIZE`,
    read as they are iterated (never the whole file at once). Iterate it once; `aclose` releases
    it early (it is released by itself at the end)."""

    @property
    def size(self) -> int: ...

    def __aiter__(self) -> AsyncIterator[bytes]: ...
    async def aclose(self) -> None: ...


class FileStore(Protocol):
    """Files' bytes, kept under ids Causerie makes (domain/files.py): in the data folder or in
    an S3 bucket (docs/architecture.md, "Files"). Every method refuses an id Causerie could not
    have made with `InvalidFileId`, before touching any storage; a storage that does not answer
    raises `FilesUnavailable` within about half a minute."""

    async def put(self, chunks: AsyncIterable[bytes]) -> StoredFile:
        """Store `chunks` under a new id, as they arrive (never all of them in memory).

        Either the whole file is readable under the returned id once this returns, or (the
        chunks raised, the storage failed, the task was cancelled) nothing of it is readable;
        the error propagates.
        """
        ...

    async def open(self, file_id: str) -> FileReader:
        """The file, ready to stream; `FileMissing` if there is none under this id."""
        ...

    async def delete(self, file_ids: Collection[str]) -> None:
        """Delete these files (erasure, deletion of a conversation: P9, P20). Ids with no file
        are skipped; if any id is not a file id, nothing is deleted."""
        ...

    def list_ids(self) -> AsyncIterator[str]:
        """Every stored file's id, in no given order: what a sweep compares with the database."""
        ...

    async def close(self) -> None: ...


class PushSender(Protocol):
    """Web Push to browsers (docs/notifications.md, "Push"): a payload encrypted for one
    subscription (RFC 8291, aes128gcm) and signed with this installation's VAPID key (RFC 8292),
    posted to its push service (RFC 8030)."""

    @property
    def public_key(self) -> str:
        """The VAPID application server key (base64url, uncompressed P-256 point): what browsers
        subscribe with. The private half is never served."""
        ...

    async def send(self, subscription: PushSubscription, payload: bytes, ttl: int) -> PushOutcome:
        """Post one push. Returns the service's answer; raises when it cannot be reached (the
        caller's job retries). An endpoint refused by the settings (a private address while
        they do not allow one) is answered as `PushOutcome(0, refused=True)`, never fetched."""
        ...


class Outbound(Protocol):
    """HTTP requests to outside receivers (webhooks, plugins' integrations), through the SSRF
    guard (docs/security.md, "Outgoing requests"): a target whose address is not public is
    refused with `DeliveryRefused`, unless the settings allow private targets."""

    async def post(self, url: str, headers: dict[str, str], body: bytes, seconds: float) -> Answer:
        """POST `body` to `url` once, following no redirect, within `seconds` in all; the
        answer's status, latency and first bytes. Raises `DeliveryRefused` (nothing sent),
        `TimeoutError`, or the transport's errors (the attempt failed)."""
        ...

    async def close(self) -> None: ...
