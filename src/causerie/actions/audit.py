"""The audit log (P4, P20): who did what to which id, and when. Never personal data."""

from __future__ import annotations

from causerie.domain.models import Actor, AuditEntry
from causerie.domain.ports import Tx
from causerie.runtime import Runtime
from causerie.tokens import new_id


async def do_audit(
    rt: Runtime,
    tx: Tx,
    actor: Actor,
    action: str,
    *,
    target_type: str,
    target_id: str,
    website_id: str | None = None,
    details: dict[str, int | str] | None = None,
) -> None:
    await tx.audit.insert(
        AuditEntry(
            id=new_id(),
            at=rt.clock.now(),
            actor_type=actor.kind,
            actor_id=actor.operator_id,
            action=action,
            website_id=website_id,
            target_type=target_type,
            target_id=target_id,
            details=details or {},
        )
    )
