"""Block rules (per website, and server-wide), "block this visitor", spam marks, and the shield's
overview (P18; docs/api.md "The shield").

A website's rules are its owners' and admins' to read and change; server-wide rules, and the
overview of every network, are for the operators `CAUSERIE_SHIELD_ADMINS` names (and the shell).
Each change is audited with ids and kinds only: never the address, email or reason it holds.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from causerie.actions import shield
from causerie.actions.access import ANY_ROLE, MANAGERS, check_role
from causerie.actions.audit import do_audit
from causerie.actions.events import do_emit
from causerie.domain.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated, shown
from causerie.domain.events import EventType, Stream
from causerie.domain.models import Actor, Conversation, Operator, Scope, Session
from causerie.domain.networks import network_of
from causerie.domain.ports import Tx
from causerie.domain.retention import Rule, effective_retention
from causerie.domain.shield import (
    MAX_REASON,
    METRICS,
    BlockKind,
    BlockRule,
    network_key,
    network_label,
    normalize_value,
)
from causerie.domain.wire import conversation_json
from causerie.runtime import Runtime
from causerie.tokens import new_id

OVERVIEW_WINDOW = timedelta(hours=24)
ACTIVE_NOW = timedelta(minutes=30)
TOP_NETWORKS = 50


async def _check_scope(
    rt: Runtime, tx: Tx, actor: Actor, website_id: str | None, scope: Scope
) -> None:
    if website_id is not None:
        missing = NotFound(f"no website {shown(website_id)}", "website_not_found")
        await check_role(tx, actor, website_id, MANAGERS, scope, missing=missing)
        return
    await check_shield_admin(rt, tx, actor, scope)


async def check_shield_admin(rt: Runtime, tx: Tx, actor: Actor, scope: Scope) -> None:
    """Server-wide rules and the overview: the shell, or an operator CAUSERIE_SHIELD_ADMINS
    names, with a credential of `scope` that no website limits."""
    if actor.kind in ("cli", "system"):
        return
    if actor.operator_id is None:
        raise Unauthenticated("authentication required")
    refusal = shield_admin_refusal(rt, actor, await tx.operators.get(actor.operator_id), scope)
    if refusal is not None:
        raise refusal


def shield_admin_refusal(
    rt: Runtime, actor: Actor, operator: Operator | None, scope: Scope
) -> Forbidden | None:
    """Why `actor`, signed in as `operator`, may not act server-wide with `scope` (None: they
    may). One rule for check_shield_admin and for `shield_admin` on /api/v1/me, which tells the
    inbox beforehand whether to ask for the overview."""
    if operator is None or operator.email.lower() not in rt.settings.shield_admins:
        return Forbidden(
            "server-wide blocks are for the operators CAUSERIE_SHIELD_ADMINS names",
            "not_shield_admin",
        )
    if scope not in actor.scopes:
        return Forbidden(f"this token lacks the {shown(scope.value)} scope", "insufficient_scope")
    if actor.website_ids is not None:
        return Forbidden("a token limited to some websites cannot act server-wide", "forbidden")
    return None


def _checked(
    kind: str, value: str, reason: str, expires_at: datetime | None, now: datetime
) -> tuple[BlockKind, str, str]:
    try:
        block_kind = BlockKind(kind)
    except ValueError:
        names = ", ".join(k.value for k in BlockKind)
        raise Invalid(f"kind must be one of: {names}", "invalid_block_kind") from None
    try:
        normalized = normalize_value(block_kind, value)
    except ValueError as exc:
        raise Invalid(f"value: {exc}", "invalid_block_value") from None
    reason = reason.strip()
    if not reason:
        raise Invalid("reason must not be empty", "invalid_block_reason")
    if len(reason) > MAX_REASON:
        raise Invalid(f"reason is longer than {MAX_REASON} characters", "invalid_block_reason")
    if expires_at is not None and expires_at <= now:
        raise Invalid("expires_at must be in the future", "invalid_block_expiry")
    return block_kind, normalized, reason


def _changed(rt: Runtime, website_id: str | None) -> None:
    """This node applies the change at once (others within seconds)."""
    if website_id is None:
        rt.block_rules.clear()
    else:
        rt.block_rules.pop(website_id, None)


async def get_block_rules(rt: Runtime, actor: Actor, website_id: str | None) -> list[BlockRule]:
    async with rt.store.read() as tx:
        await _check_scope(rt, tx, actor, website_id, Scope.READ)
        return await tx.shield.list_rules(website_id)


async def _add(
    rt: Runtime,
    tx: Tx,
    actor: Actor,
    website_id: str | None,
    kind: BlockKind,
    value: str,
    reason: str,
    expires_at: datetime | None,
    source: str,
    ip_seen_at: datetime | None = None,
) -> BlockRule:
    rule = BlockRule(
        id=new_id(),
        website_id=website_id,
        kind=kind,
        value=value,
        reason=reason,
        created_at=rt.clock.now(),
        created_by=actor.operator_id,
        expires_at=expires_at,
        ip_seen_at=ip_seen_at,
    )
    await tx.shield.insert_rule(rule)
    await do_audit(
        rt,
        tx,
        actor,
        "block.added",
        target_type="block_rule",
        target_id=rule.id,
        website_id=website_id,
        details={"kind": kind.value, "from": source},
    )
    return rule


async def do_add_block_rule(
    rt: Runtime,
    actor: Actor,
    website_id: str | None,
    *,
    kind: str,
    value: str,
    reason: str,
    expires_at: datetime | None = None,
) -> BlockRule:
    block_kind, normalized, reason = _checked(kind, value, reason, expires_at, rt.clock.now())
    async with rt.store.transaction() as tx:
        await _check_scope(rt, tx, actor, website_id, Scope.WRITE)
        rule = await _add(
            rt, tx, actor, website_id, block_kind, normalized, reason, expires_at, "rule"
        )
    _changed(rt, website_id)
    return rule


async def do_remove_block_rule(
    rt: Runtime, actor: Actor, website_id: str | None, rule_id: str
) -> None:
    missing = NotFound(f"no block rule {shown(rule_id)}", "block_not_found")
    async with rt.store.transaction() as tx:
        try:
            await _check_scope(rt, tx, actor, website_id, Scope.WRITE)
        except Forbidden as exc:
            if exc.code == "not_shield_admin":
                raise missing from None  # a server-wide rule is not theirs to learn of
            raise
        rule = await tx.shield.get_rule(rule_id)
        if rule is None or rule.website_id != website_id:
            raise missing
        await tx.shield.delete_rule(rule_id)
        await do_audit(
            rt,
            tx,
            actor,
            "block.removed",
            target_type="block_rule",
            target_id=rule_id,
            website_id=website_id,
            details={"kind": rule.kind.value},
        )
    _changed(rt, website_id)


async def _conversation(
    tx: Tx, actor: Actor, conversation_id: str, roles: frozenset[Any]
) -> tuple[Conversation, Session]:
    missing = NotFound(f"no conversation {shown(conversation_id)}", "conversation_not_found")
    conversation = await tx.conversations.get(conversation_id)
    if conversation is None:
        raise missing
    await check_role(tx, actor, conversation.website_id, roles, Scope.WRITE, missing=missing)
    session = await tx.sessions.get(conversation.session_id)
    if session is None:
        raise missing
    return conversation, session


async def do_block_visitor(
    rt: Runtime,
    actor: Actor,
    conversation_id: str,
    *,
    reason: str,
    kind: str = "address",
    expires_at: datetime | None = None,
) -> BlockRule:
    """A rule on the conversation's website refusing its visitor: by their address, or the
    network around it. The address is taken from the session, never shown to the agent, and
    the rule ends (at the latest) when the website's chat IP retention erases that address from
    the session: the copy outlives neither it nor a deletion of the conversation (P18, P20). The
    rule keeps when the session recorded the address (`ip_seen_at`): a retention shortened later
    ends it sooner (the purge's `expired_blocks`)."""
    if kind not in (BlockKind.ADDRESS.value, BlockKind.NETWORK.value):
        raise Invalid("kind must be address or network", "invalid_block_kind")
    async with rt.store.transaction() as tx:
        conversation, session = await _conversation(tx, actor, conversation_id, MANAGERS)
        if not session.ip:
            raise Conflict(
                "the visitor's address is no longer kept (P18): block by email instead",
                "address_unknown",
            )
        if ipaddress.ip_address(session.ip).is_loopback:
            raise Conflict(
                "this visitor's address is the server's own host: a proxy in front of Causerie "
                "that CAUSERIE_TRUSTED_PROXIES does not name? Blocking it would block everyone",
                "address_not_blockable",
            )
        expires_at = await _within_ip_retention(rt, tx, session, expires_at)
        value = network_of(session.ip) if kind == BlockKind.NETWORK.value else session.ip
        block_kind, normalized, reason = _checked(kind, value, reason, expires_at, rt.clock.now())
        rule = await _add(
            rt,
            tx,
            actor,
            conversation.website_id,
            block_kind,
            normalized,
            reason,
            expires_at,
            "conversation",
            session.ip_seen_at,
        )
    _changed(rt, conversation.website_id)
    return rule


async def _within_ip_retention(
    rt: Runtime, tx: Tx, session: Session, expires_at: datetime | None
) -> datetime | None:
    """`expires_at`, brought back to when the session's IP is due to be erased (never later)."""
    website = await tx.websites.get(session.website_id)
    overrides = (website.settings.get("retention") or {}) if website else {}
    retention = effective_retention(overrides, Rule.CHAT_IPS, rt.settings.chat_ip_retention)
    if retention is None or session.ip_seen_at is None:
        return expires_at
    erased_at = session.ip_seen_at + retention
    if erased_at <= rt.clock.now():  # due to be erased at the purge's next run
        raise Conflict(
            "the visitor's address is past its retention (P18): block by email instead",
            "address_unknown",
        )
    return erased_at if expires_at is None else min(expires_at, erased_at)


async def do_mark_spam(rt: Runtime, actor: Actor, conversation_id: str, spam: bool) -> bool:
    """Move the conversation to the spam filter (or back: "not spam"); its network's bot score
    rises (or the rise is taken back). Returns whether anything changed.

    A change is a `conversation.updated` that carries `spam`, on the website's stream only:
    every agent's inbox moves the conversation at once, a resumed socket replays it, and the
    visitor's view says nothing of it."""
    async with rt.store.transaction() as tx:
        conversation, session = await _conversation(tx, actor, conversation_id, ANY_ROLE)
        changed = await tx.shield.mark_spam(conversation.id, spam)
        if changed:
            marked = replace(conversation, spam=spam)
            await do_emit(
                rt,
                tx,
                Stream.of_website(conversation.website_id),
                EventType.CONVERSATION_UPDATED,
                conversation.id,
                {"conversation": conversation_json(marked, for_visitor=False)},
                session_id=conversation.session_id,
                data={"spam": spam},  # replayed as it was told, whatever the mark is now
            )
            await do_audit(
                rt,
                tx,
                actor,
                "conversation.spam" if spam else "conversation.not_spam",
                target_type="conversation",
                target_id=conversation.id,
                website_id=conversation.website_id,
            )
    if changed and session.ip:
        amount = shield.SCORE_SPAM if spam else -shield.SCORE_SPAM
        await shield.raise_score(rt, session.ip, amount)
    return changed


# -- the overview -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Overview:
    networks: list[dict[str, Any]]  # the most active now, by hash and label
    series: list[dict[str, Any]]  # per hour of the last day: each metric summed over networks
    rules: list[BlockRule]  # the server-wide ones


async def get_shield_overview(rt: Runtime, actor: Actor) -> Overview:
    async with rt.store.read() as tx:
        await check_shield_admin(rt, tx, actor, Scope.READ)
        rules = await tx.shield.list_rules(None)
    await shield.flushed()
    now = rt.clock.now()
    rows = await rt.aggregates.read(now - OVERVIEW_WINDOW, now)
    recent: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(METRICS, 0))
    hours: dict[datetime, dict[str, int]] = {}
    first = (now - OVERVIEW_WINDOW).replace(minute=0, second=0, microsecond=0)
    for h in range(25):
        hours[first + timedelta(hours=h)] = dict.fromkeys(METRICS, 0)
    for start, network, metric, n in rows:
        if metric not in METRICS:
            continue
        hour = start.replace(minute=0, second=0, microsecond=0)
        if hour in hours:
            hours[hour][metric] += n
        if start >= now - ACTIVE_NOW:
            recent[network][metric] += n
    ranked = sorted(
        recent.items(),
        key=lambda item: -(item[1]["loads"] + item[1]["messages"] + item[1]["limited"]),
    )[:TOP_NETWORKS]
    networks = []
    for network, counts in ranked:
        score = await shield.score_of(rt, network)
        networks.append(
            {
                "network": network,
                "label": network_label(network),
                "counts": counts,
                "score": round(score, 2),
                "blocked": score >= rt.settings.shield_block_score,
                "challenged": score >= shield.SUSPECT * rt.settings.shield_block_score,
            }
        )
    series = [{"hour": hour, **counts} for hour, counts in sorted(hours.items())]
    return Overview(networks, series, rules)


def key_of(rt: Runtime, ip: str) -> str:
    """The keyed hash the overview names a network by (the CLI and tests find theirs)."""
    return network_key(rt.settings.secret_key, ip)
