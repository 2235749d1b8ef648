"""`SqlTx`: the domain's `Tx` port, each area's repository over the transaction's one `Db`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from causerie.domain.ports import PartNotUndone, TransactionLost
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
from causerie.store.db import Db
from causerie.store.failures import clash, is_lost_race, is_unique_clash, raced
from causerie.store.repositories.api_tokens import SqlApiTokens
from causerie.store.repositories.audit import SqlAudit
from causerie.store.repositories.conversations import SqlConversations
from causerie.store.repositories.dpa import SqlDpaAcceptances
from causerie.store.repositories.events import SqlEvents
from causerie.store.repositories.files import SqlFiles
from causerie.store.repositories.jobs import SqlJobs
from causerie.store.repositories.labels import SqlLabels
from causerie.store.repositories.links import SqlLinks
from causerie.store.repositories.logins import SqlLogins
from causerie.store.repositories.mail import SqlMailState
from causerie.store.repositories.members import SqlMembers
from causerie.store.repositories.messages import SqlMessages
from causerie.store.repositories.operators import SqlOperators
from causerie.store.repositories.push import SqlPushSubscriptions
from causerie.store.repositories.ratings import SqlRatings
from causerie.store.repositories.replies import SqlCannedReplies
from causerie.store.repositories.reports import SqlReports
from causerie.store.repositories.retention import SqlRetention
from causerie.store.repositories.sessions import SqlSessions
from causerie.store.repositories.shield import SqlShield
from causerie.store.repositories.stats import SqlStats
from causerie.store.repositories.teams import SqlTeams
from causerie.store.repositories.webhooks import SqlWebhooks
from causerie.store.repositories.websites import SqlWebsites

_SAVEPOINT = "SAVEPOINT causerie_part"


class Repositories:
    """Every area's repository over one `Db`. Built once per connection where the connection
    outlives its transactions (SQLite's one connection), else once per transaction."""

    __slots__ = (
        "api_tokens",
        "audit",
        "conversations",
        "db",
        "dpa",
        "events",
        "files",
        "jobs",
        "labels",
        "links",
        "logins",
        "mail",
        "members",
        "messages",
        "operators",
        "push",
        "ratings",
        "replies",
        "reports",
        "retention",
        "sessions",
        "shield",
        "stats",
        "teams",
        "webhooks",
        "websites",
    )

    def __init__(self, db: Db) -> None:
        self.db = db
        self.websites: Websites = SqlWebsites(db)
        self.operators: Operators = SqlOperators(db)
        self.members: Members = SqlMembers(db)
        self.logins: Logins = SqlLogins(db)
        self.links: Links = SqlLinks(db)
        self.api_tokens: ApiTokens = SqlApiTokens(db)
        self.sessions: Sessions = SqlSessions(db)
        self.conversations: Conversations = SqlConversations(db)
        self.messages: Messages = SqlMessages(db)
        self.events: Events = SqlEvents(db)
        self.retention: Retention = SqlRetention(db)
        self.stats: Stats = SqlStats(db)
        self.shield: ShieldStore = SqlShield(db)
        self.audit: Audit = SqlAudit(db)
        self.dpa: DpaAcceptances = SqlDpaAcceptances(db)
        self.jobs: Jobs = SqlJobs(db)
        self.replies: CannedReplies = SqlCannedReplies(db)
        self.labels: Labels = SqlLabels(db)
        self.push: PushSubscriptions = SqlPushSubscriptions(db)
        self.mail: MailState = SqlMailState(db)
        self.files: Files = SqlFiles(db)
        self.webhooks: Webhooks = SqlWebhooks(db)
        self.teams: Teams = SqlTeams(db)
        self.ratings: Ratings = SqlRatings(db)
        self.reports: Reports = SqlReports(db)


class SqlTx:
    """One transaction: the repositories of its connection, and what runs after its commit."""

    __slots__ = (
        "_can_commit_early",
        "_depth",
        "_lost",
        "_on_commit",
        "_unreleased",
        *Repositories.__slots__,
    )

    def __init__(self, repositories: Repositories, can_commit_early: bool = False) -> None:
        r = repositories
        self.db = r.db
        self.websites: Websites = r.websites
        self.operators: Operators = r.operators
        self.members: Members = r.members
        self.logins: Logins = r.logins
        self.links: Links = r.links
        self.api_tokens: ApiTokens = r.api_tokens
        self.sessions: Sessions = r.sessions
        self.conversations: Conversations = r.conversations
        self.messages: Messages = r.messages
        self.events: Events = r.events
        self.retention: Retention = r.retention
        self.stats: Stats = r.stats
        self.shield: ShieldStore = r.shield
        self.audit: Audit = r.audit
        self.dpa: DpaAcceptances = r.dpa
        self.jobs: Jobs = r.jobs
        self.replies: CannedReplies = r.replies
        self.labels: Labels = r.labels
        self.push: PushSubscriptions = r.push
        self.mail: MailState = r.mail
        self.files: Files = r.files
        self.webhooks: Webhooks = r.webhooks
        self.teams: Teams = r.teams
        self.ratings: Ratings = r.ratings
        self.reports: Reports = r.reports
        self._on_commit: list[Callable[[], None]] = []
        self._depth = 0  # savepoints open
        self._unreleased = False  # an outermost savepoint done, its RELEASE still to send
        self._can_commit_early = can_commit_early  # the store's say (`commit_early`)
        self._lost: Callable[[Exception], None] | None = None  # asked to commit early

    def on_commit(self, callback: Callable[[], None]) -> None:
        self._on_commit.append(callback)

    def commit_early(self, lost: Callable[[Exception], None]) -> bool:
        """`Tx.commit_early`: noted for the store, which reads `early` as it commits."""
        if self._can_commit_early:
            self._lost = lost
        return self._can_commit_early

    @property
    def early(self) -> bool:
        """Whether the commit is to return before the transaction is durable."""
        return self._lost is not None

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """`Tx.savepoint`. Parts run one after another on the transaction's connection, so one
        name serves them all (a savepoint of the same name nested in one is also valid SQL).

        An outermost savepoint that succeeds is released by the next one's first statement
        (`RELEASE ...; SAVEPOINT ...`, one round trip on PostgreSQL), or by the commit: a batch's
        part costs one statement of transaction control, not two. Until then the statements in
        between run inside it, which changes nothing: it is never rolled back."""
        mark = len(self._on_commit)
        pending = self.db.pending
        held = pending.mark() if pending is not None else None
        if self._unreleased:
            self._unreleased = False
            await self.db.control_many(["RELEASE SAVEPOINT causerie_part", _SAVEPOINT])
        else:
            await self.db.control(_SAVEPOINT)
        self._depth += 1
        try:
            yield
        except BaseException as exc:
            self._depth -= 1
            del self._on_commit[mark:]
            if pending is not None and held is not None:
                pending.rollback_to(held)
            if is_lost_race(exc):
                # Undoing the part alone would keep the locks the batch's earlier parts took,
                # which the other transaction may be waiting for: the whole batch goes.
                raise raced(exc) from exc
            try:
                await self.db.control_many(
                    ["ROLLBACK TO SAVEPOINT causerie_part", "RELEASE SAVEPOINT causerie_part"]
                )
            except Exception as lost:
                raise TransactionLost(f"the transaction was lost: {exc!r}") from lost
            if is_unique_clash(exc):
                raise clash() from exc  # as a transaction of its own would say
            raise
        self._depth -= 1
        if self._depth:  # nested: a rollback of the one around it must find that one's name
            await self.db.control("RELEASE SAVEPOINT causerie_part")
        else:
            self._unreleased = True

    def part(self) -> _Part:
        """`Tx.part`: no savepoint, so no statement of its own (one round trip less per part on
        PostgreSQL, and no subtransaction). What a savepoint's rollback would undo of a part
        that raised before sending a change is in memory: its held-back writes, the reads kept
        since, its `on_commit` callbacks."""
        return _Part(self)

    async def flush(self) -> None:
        """`Tx.flush`."""
        await self.db.flush_pending()

    def committed(self) -> None:
        callbacks, self._on_commit = self._on_commit, []
        for callback in callbacks:
            callback()

    def lost(self, error: Exception) -> None:
        """Committed early, and not known to be durable: `lost` runs instead of the callbacks."""
        lost, self._lost, self._on_commit = self._lost, None, []
        if lost is not None:
            lost(error)


class _Part:
    """`SqlTx.part()`: a class, not a generator-based context manager (entered twice a batch
    in the bulk form, and by each part of a batch that runs on its own: an async generator's
    frame and its registration with the loop each time; docs/performance.md, `paced3`)."""

    __slots__ = ("_changes", "_held", "_mark", "_pending", "_tx")

    def __init__(self, tx: SqlTx) -> None:
        self._tx = tx

    async def __aenter__(self) -> None:
        tx = self._tx
        self._mark = len(tx._on_commit)
        db = tx.db
        pending = self._pending = db.pending
        self._held = pending.mark() if pending is not None else None
        self._changes = db.changes
        if pending is not None:
            pending.optimistic = True  # rows may be held back whose key the flush checks

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        pending = self._pending
        try:
            self._undo(exc)
        finally:
            if pending is not None:
                pending.optimistic = False

    def _undo(self, exc: BaseException | None) -> None:
        tx = self._tx
        pending = self._pending
        if exc is None or not isinstance(exc, Exception) or isinstance(exc, TransactionLost):
            return  # propagated as it is (or none)
        if tx.db.changes == self._changes:
            del tx._on_commit[self._mark :]
            if pending is not None and self._held is not None:
                pending.rollback_to(self._held)
            return
        if is_lost_race(exc):
            raise raced(exc) from exc
        # Not chained: the stores read a chained unique clash as their own to answer.
        raise PartNotUndone(clash() if is_unique_clash(exc) else exc) from None
