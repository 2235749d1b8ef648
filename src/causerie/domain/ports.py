"""The interfaces the domain needs from storage; `causerie.store` implements them.

A `Tx` is one database transaction. Callbacks given to `on_commit` run after it commits and
are dropped if it rolls back: that is where events are published (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable, Collection
from contextlib import AbstractAsyncContextManager
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from causerie.domain.events import Envelope, NewEvent, StoredEvent
from causerie.domain.files import StoredFile
from causerie.domain.models import (
    AccountLink,
    ApiToken,
    AuditEntry,
    Author,
    Conversation,
    ConversationState,
    ConversationSummary,
    DpaAcceptance,
    Login,
    Member,
    Message,
    Operator,
    PageView,
    Role,
    Session,
    Website,
)
from causerie.domain.repositories.jobs import Jobs
from causerie.domain.retention import Rule


class Tx(Protocol):
    @property
    def jobs(self) -> Jobs: ...

    def on_commit(self, callback: Callable[[], None]) -> None: ...

    # websites, operators, memberships, tokens
    async def insert_website(self, website: Website) -> None: ...
    async def get_website(self, website_id: str) -> Website | None: ...
    async def list_websites(self) -> list[Website]: ...
    async def insert_operator(self, operator: Operator, password_hash: str | None) -> None: ...
    async def count_operators(self) -> int: ...
    async def get_operator(self, operator_id: str) -> Operator | None: ...
    async def get_operator_by_email(self, email: str) -> Operator | None: ...
    async def set_membership(
        self, website_id: str, operator_id: str, role: Role, at: datetime
    ) -> None: ...
    async def get_role(self, operator_id: str, website_id: str) -> Role | None: ...
    async def insert_api_token(self, token: ApiToken, token_hash: str) -> None: ...
    async def get_api_token(self, token_hash: str) -> ApiToken | None: ...

    async def list_api_tokens(self, operator_id: str) -> list[ApiToken]: ...
    async def revoke_api_token(self, operator_id: str, token_id: str, at: datetime) -> bool: ...
    async def touch_api_token(self, token_id: str, at: datetime) -> None: ...

    # accounts: passwords, logins, one-time links, memberships (store/accounts_sql.py)
    async def get_password_hash(self, operator_id: str) -> str | None: ...
    async def set_password(self, operator_id: str, password_hash: str) -> None: ...
    async def set_first_password(self, operator_id: str, password_hash: str) -> bool: ...
    async def set_operator_name(self, operator_id: str, name: str) -> None: ...
    async def record_login(self, operator_id: str, at: datetime) -> None: ...
    async def insert_login(self, login: Login, token_hash: str) -> None: ...
    async def get_login(self, token_hash: str) -> Login | None: ...
    async def extend_login(
        self, login_id: str, seen_at: datetime, expires_at: datetime
    ) -> None: ...
    async def delete_login(self, login_id: str) -> None: ...
    async def delete_other_logins(self, operator_id: str, keep_login_id: str | None) -> list[str]:
        """Delete the operator's logins but `keep_login_id`; the ids of those deleted."""
        ...

    async def insert_link(self, link: AccountLink, token_hash: str) -> None: ...
    async def get_link(self, token_hash: str) -> AccountLink | None: ...
    async def delete_link(self, link_id: str) -> bool: ...
    async def delete_links(self, purpose: str, operator_id: str | None = None) -> None: ...
    async def get_invitation(
        self, website_id: str, operator_id: str, now: datetime
    ) -> AccountLink | None:
        """The website's unexpired invitation of the operator, if any."""
        ...

    async def list_invitations(self, website_id: str, now: datetime) -> list[Member]:
        """The people invited to the website whose link is unused and unexpired (pending)."""
        ...

    async def set_link_role(self, link_id: str, role: Role) -> None: ...
    async def list_memberships(self, operator_id: str) -> list[tuple[Website, Role]]: ...
    async def list_members(self, website_id: str) -> list[Member]: ...
    async def delete_membership(self, website_id: str, operator_id: str) -> bool: ...
    async def count_owners(self, website_id: str) -> int: ...

    # websites and the inbox's lists (store/inbox_sql.py)
    async def update_website(self, website: Website) -> None: ...
    async def delete_website(self, website_id: str) -> int:
        """Delete the website and everything of it; returns how many conversations went."""
        ...

    async def list_conversations(
        self,
        website_id: str,
        *,
        state: ConversationState | None,
        assignee: str | None,
        unassigned: bool,
        query: str | None,
        limit: int,
        after: tuple[datetime, str] | None,
    ) -> list[ConversationSummary]: ...
    async def set_conversation_state(
        self, conversation_id: str, state: ConversationState, at: datetime
    ) -> None: ...
    async def set_assignee(
        self, conversation_id: str, operator_id: str | None, at: datetime
    ) -> None: ...
    async def unassign_all(self, website_id: str, operator_id: str, at: datetime) -> list[str]: ...
    async def daily_counts(
        self, website_id: str, since: datetime
    ) -> list[tuple[str, str, int]]: ...

    # privacy tools (store/privacy_sql.py)
    async def find_sessions_by_email(
        self, email: str, website_ids: list[str] | None
    ) -> list[Session]: ...
    async def set_consent(
        self, session_id: str, version: int | None, at: datetime | None
    ) -> None: ...
    async def list_audit(
        self,
        website_id: str,
        *,
        action: str | None,
        actor_id: str | None,
        before: tuple[datetime, str] | None,
        limit: int,
    ) -> list[AuditEntry]: ...
    async def insert_dpa(self, acceptance: DpaAcceptance) -> None: ...
    async def list_dpa(self, website_id: str) -> list[DpaAcceptance]: ...

    # sessions
    async def get_website_and_session(
        self, website_id: str, token_hash: str | None
    ) -> tuple[Website | None, Session | None]:
        """The website, and the session of `token_hash` if it belongs to that website: the one
        read of a chatbox load."""
        ...

    async def get_session_by_token(
        self, token_hash: str, website_id: str | None = None
    ) -> Session | None: ...
    async def get_session(self, session_id: str) -> Session | None: ...
    async def insert_session(self, session: Session, token_hash: str) -> None: ...
    async def record_visit(
        self,
        session_id: str,
        *,
        last_access_at: datetime,
        ip: str | None,
        page: PageView | None,
    ) -> None: ...
    async def make_permanent(self, session_id: str, at: datetime) -> None: ...
    async def update_profile(
        self,
        session_id: str,
        *,
        nickname: str | None,
        email: str | None,
        phone: str | None,
        data: dict[str, Any],
    ) -> None: ...
    async def delete_session(self, session_id: str) -> bool: ...

    # conversations and messages
    async def get_conversation(self, conversation_id: str) -> Conversation | None: ...
    async def get_conversation_of_session(self, session_id: str) -> Conversation | None: ...
    async def get_session_and_conversation(
        self, session_id: str
    ) -> tuple[Session | None, Conversation | None]:
        """The session and its conversation (None until it has one), in one read."""
        ...

    async def insert_conversation(self, conversation: Conversation) -> bool:
        """False when the session already has one (a concurrent first message won)."""
        ...

    async def touch_conversation(
        self,
        conversation_id: str,
        at: datetime,
        *,
        reopen: bool,
        unread_for: Author | None,
        returning: bool = False,
    ) -> Conversation | None:
        """A message was added at `at`; with `returning`, the conversation as it is now."""
        ...

    async def mark_read(self, conversation_id: str, reader: Author, up_to: str) -> bool: ...
    async def insert_message(self, message: Message) -> bool:
        """False when the conversation already holds a message with that client_id."""
        ...

    async def count_messages(self, conversation_id: str) -> int: ...
    async def get_message_by_client_id(
        self, conversation_id: str, client_id: str
    ) -> Message | None: ...
    async def get_message(self, conversation_id: str, message_id: str) -> Message | None: ...
    async def list_messages(
        self,
        conversation_id: str,
        *,
        limit: int,
        before: str | None = None,
        include_notes: bool,
    ) -> list[Message]: ...

    # the event log (docs/realtime.md)
    async def append_events(self, new: list[NewEvent]) -> list[int]:
        """Append the events in order; each gets its stream's next seq (returned in order)."""
        ...

    async def list_events(self, stream: str, after: int, limit: int) -> list[StoredEvent]: ...
    async def last_seq(self, stream: str) -> int: ...
    async def get_messages_by_id(self, ids: list[str]) -> dict[str, Message]: ...
    async def get_conversations_by_id(self, ids: list[str]) -> dict[str, Conversation]: ...
    async def get_sessions_by_id(self, ids: list[str]) -> dict[str, Session]: ...

    # retention, statistics, audit
    async def count_expired(
        self,
        rule: Rule,
        cutoff: datetime,
        website_id: str | None = None,
        newer_than: datetime | None = None,
    ) -> int: ...
    async def list_expired(
        self,
        rule: Rule,
        cutoff: datetime,
        limit: int,
        website_id: str | None = None,
        newer_than: datetime | None = None,
    ) -> list[str]:
        """Ids of up to `limit` rows that `rule` removes (or clears) at `cutoff`."""
        ...

    async def purge_expired(
        self,
        rule: Rule,
        cutoff: datetime,
        ids: list[str],
        website_id: str | None = None,
        newer_than: datetime | None = None,
    ) -> int:
        """Remove (or clear) those of `ids` that `rule` still expires; returns how many."""
        ...

    async def count_network(
        self, network: str, day: date, *, sessions: int, messages: int
    ) -> None: ...
    async def insert_audit(self, entry: AuditEntry) -> None: ...
    async def record_purge_run(
        self, at: datetime, dry_run: bool, counts: dict[str, int]
    ) -> None: ...


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
    def publisher(self, channel: str, frame: dict[str, Any]) -> Callable[[], None]:
        """A callback publishing `frame`, for `tx.on_commit`."""
        ...

    def publisher_of(self, frames: list[tuple[str, dict[str, Any]]]) -> Callable[[], None]:
        """A callback publishing each `(channel, frame)` in order, for `tx.on_commit`."""
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


class Presence(Protocol):
    """Who is connected now, across nodes: agents (online or away) and visitors, per website.

    Entries belong to one connection; a node that dies without cleaning up has its entries
    expire within `ttl` seconds, since live nodes `refresh` theirs periodically.
    """

    async def set_agent(self, website_id: str, connection_id: str, status: str | None) -> None: ...
    async def website_online(self, website_id: str) -> bool: ...
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

    def website_and_session_now(
        self, website_id: str, token_hash: str | None
    ) -> tuple[Website | None, Session | None] | None:
        """`Tx.get_website_and_session` in `read()`, done at once when the store can do it
        without waiting (no other task can run in between); None when it cannot: use `read()`."""
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
