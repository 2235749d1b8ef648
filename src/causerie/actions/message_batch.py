"""Visitors' messages of one batch stored together: the bulk form of a visitor's send.

`actions/batches.py` hands a run of consecutive visitor sends of one batch to
`store_visitor_messages` at once. It works in two phases. First every check that can refuse a
message, none of which writes: its session still there, consent, the shield's rules and block
(once per session in a run), the rate limits; a refused message gets its own error and drops
out. Then the others are written, one after another in the batch's order, as
`do_store_message` would write them (its row, its conversation's touch, its events, its
notifications), with what they add to shared rows gathered across the batch: one emitter for
all their events (their webhooks queued and their events appended at once), the report counts
and the networks' daily counts summed before they reach the store, the shield's counts once
per network.

Only the common message takes this path: its session permanent, its conversation open. The
first message that would start, reopen or make permanent ends the run; it runs as its own part
(`do_store_message`), and the messages after it form a run again. A write that fails here fails
the run whole: the batch runs again, each message on its own (actions/batches.py).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from causerie.actions import shield
from causerie.actions.consent import check_consent
from causerie.actions.events import Emitter
from causerie.actions.limits import check_visitor_message_rate
from causerie.actions.notifications import do_notify
from causerie.actions.sent import Sent, sent_again
from causerie.actions.sessions import count_network_day
from causerie.domain.errors import Unauthenticated, shown
from causerie.domain.models import (
    Author,
    Conversation,
    ConversationState,
    Message,
    MessageType,
    Session,
    SessionState,
)
from causerie.domain.ports import TransactionLost, Tx
from causerie.domain.reports import Groups, HourRow, grouped, hour_of, message_rows
from causerie.runtime import Runtime
from causerie.tokens import new_id


@dataclass(frozen=True, slots=True)
class VisitorSend:
    """A visitor's message on its way to its batch, checked for its form already. `rt`: the
    runtime of the batcher it joins (one per runtime), so the same for every send of a run."""

    rt: Runtime
    session_id: str
    message_type: MessageType
    body: str
    client_id: str


class NoLongerCommon(Exception):
    """A message's conversation was found resolved when touched (PostgreSQL: another transaction
    committed in between), or gone: only its own part stores it (reopening it). The run falls
    back to its parts (actions/batches.py)."""


def _gone() -> Unauthenticated:
    return Unauthenticated("this session no longer exists", "invalid_session")


async def store_visitor_messages(tx: Tx, sends: list[VisitorSend]) -> list[tuple[bool, Any]]:
    """The outcomes (`(True, Sent)` or `(False, its error)`) of the first of `sends` that this
    path can store, in order: up to the first that would start, reopen or make permanent."""
    rt = sends[0].rt
    checked: list[VisitorSend | Exception] = []
    # Sessions whose consent and rules passed in this run: a session's next messages take only
    # their rate limits' tokens. Forgotten at any refusal (a limit hit raises the network's bot
    # score, which the shield's check reads), so that each send is refused as alone.
    passed: set[str] = set()
    for send in sends:
        session, conversation = await tx.sessions.get_with_conversation(send.session_id)
        if session is None:
            checked.append(_gone())
            continue
        if not _common(session, conversation):
            break
        try:
            if session.id not in passed:
                await check_consent(rt, tx, session)
                await shield.check_visitor(rt, session, tx)
            await check_visitor_message_rate(rt, session.id, session.ip)
        except TransactionLost:
            raise  # the whole batch fails
        except Exception as exc:
            checked.append(exc)
            passed.clear()
            continue
        passed.add(session.id)
        checked.append(send)
    writes = _Writes(rt)
    outcomes: list[tuple[bool, Any]] = []
    for item in checked:
        if isinstance(item, Exception):
            outcomes.append((False, item))
        else:
            outcomes.append((True, await writes.message(tx, item)))
    await writes.flush(tx)
    return outcomes


def _common(session: Session, conversation: Conversation | None) -> bool:
    return (
        session.state is SessionState.PERMANENT
        and conversation is not None
        and conversation.state is not ConversationState.RESOLVED
    )


class _Writes:
    """The writes of the checked messages, and what they add to rows they share."""

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt
        self._emitter = Emitter(rt)
        self._reports: Counter[tuple[str, datetime, str, tuple[str, ...], str | None]] = Counter()
        self._networks: Counter[tuple[str, date]] = Counter()
        self._notify: list[tuple[Session, Conversation, Message]] = []

    async def message(self, tx: Tx, send: VisitorSend) -> Sent:
        """Store one message as `do_store_message` does (its result, a `Sent`)."""
        # Read again: an earlier message of the batch may have touched the conversation.
        session, conversation = await tx.sessions.get_with_conversation(send.session_id)
        if session is None or conversation is None:
            raise NoLongerCommon("a session or conversation went during the batch")
        now = self._rt.clock.now()
        message = Message(
            id=new_id(),
            conversation_id=conversation.id,
            author=Author.VISITOR,
            type=send.message_type,
            body=send.body,
            client_id=send.client_id,
            created_at=now,
            operator_id=None,
        )
        if not await tx.messages.insert(message):
            existing = await tx.messages.get_by_client_id(conversation.id, send.client_id)
            assert existing is not None
            return sent_again(existing, None)
        visible = send.message_type is not MessageType.NOTE
        touched = await tx.conversations.touch(
            conversation.id,
            now,
            reopen=False,
            unread_for=Author.OPERATOR if visible else None,
            returning=True,
        )
        if touched is not None and touched.state is ConversationState.RESOLVED:
            raise NoLongerCommon(f"conversation {shown(conversation.id)} was resolved meanwhile")
        self._count(conversation, message)
        if session.ip:
            self._networks[session.ip, now.date()] += 1
        text = self._emitter.add_message(session, message, visible=visible)
        self._notify.append((session, conversation, message))
        return Sent(message, created=True, text=text)

    def _count(self, conversation: Conversation, message: Message) -> None:
        """`reports.note_message` for a visitor's message: counted by what its rows depend on
        (its website, hour, type, labels and team), the rows built once per such key."""
        hour = hour_of(message.created_at)
        labels, team_id = tuple(conversation.labels), conversation.team_id
        # `_value_`, not `.value`: see domain/wire.py
        self._reports[conversation.website_id, hour, message.type._value_, labels, team_id] += 1

    async def flush(self, tx: Tx) -> None:
        """What the messages add to shared rows, written once each."""
        rt = self._rt
        await self._emitter.flush_later(tx)
        for session, conversation, message in self._notify:
            await do_notify(rt, tx, session, conversation, message, started=False)
        for (website_id, hour, type_, labels, team_id), n in self._reports.items():
            rows = message_rows(hour, Author.VISITOR.value, None, type_)
            for row in rows + grouped(rows, Groups(labels, team_id)):
                counts = {name: k * n for name, k in row.counts.items()}
                await tx.reports.add(website_id, HourRow(hour, row.dimension, row.key, counts))
        by_network: Counter[str] = Counter()
        for (ip, day), n in self._networks.items():
            await count_network_day(rt, tx, ip, day, sessions=0, messages=n)
            by_network[ip] += n
        if by_network:
            tx.on_commit(lambda: _count_networks(rt, by_network))


def _count_networks(rt: Runtime, counts: Counter[str]) -> None:
    for ip, n in counts.items():
        shield.count(rt, ip, "messages", n)
