"""Requests to outside receivers (webhooks), behind the SSRF guard: the domain's `Outbound`
port (docs/security.md, "Outgoing requests")."""

from __future__ import annotations

from causerie.domain.ports import Outbound
from causerie.settings import Settings


def open_outbound(settings: Settings) -> Outbound:
    from causerie.outbound.http import HttpOutbound

    return HttpOutbound(allow_private=settings.webhook_allow_private)
