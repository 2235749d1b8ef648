"""Rules of the chatbox session (P13-P17): when it expires, when a load must write."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from causerie.domain.models import PageView, Session, SessionState
from causerie.domain.zones import iana_zones

# A 30-minute TTL needs no finer record of the last access than this: renewing a session at most
# once a minute keeps most chatbox loads to a single indexed read (docs/performance.md).
TOUCH_GRANULARITY = timedelta(minutes=1)

# What an IANA zone name looks like ("Europe/Paris", "Etc/GMT+5", "UTC"), checked before a look-up.
ZONE_PATTERN = r"^[A-Za-z0-9_+\-]{1,30}(/[A-Za-z0-9_+\-]{1,30}){0,2}$"
MAX_ZONE = 64


def known_zone(name: str) -> str | None:
    """The visitor's zone if the server's tzdata knows it, else None (docs/api.md): a browser
    newer than the server's tzdata names zones it lacks, and its chatbox must still open."""
    return name if name in iana_zones() else None


def is_expired(session: Session, now: datetime, ttl: timedelta) -> bool:
    """A temporary session is dead `ttl` after its last access, even before the purge removes it."""
    return session.state is SessionState.TEMPORARY and session.last_access_at <= now - ttl


@dataclass(frozen=True)
class Visit:
    """The changes one chatbox load makes to an existing session; empty when nothing changed."""

    last_access_at: datetime | None = None
    ip: str | None = None
    page: PageView | None = None

    def __bool__(self) -> bool:
        return self.last_access_at is not None or self.ip is not None or self.page is not None


NO_VISIT = Visit()


def visit_changes(session: Session, page: PageView, ip: str, now: datetime) -> Visit:
    """What a load must write: the last access once a minute, a new IP, a new page or locale."""
    stale = now - session.last_access_at >= TOUCH_GRANULARITY
    page_changed = (
        page.url != session.page_url
        or page.title != session.page_title
        or page.referrer != session.page_referrer
        or (page.locale is not None and page.locale != session.locale)
        or (page.timezone is not None and page.timezone != session.timezone)
        or page.user_agent != session.user_agent
    )
    ip_changed = ip != session.ip
    if not (stale or page_changed or ip_changed):
        return NO_VISIT  # most renewals: one object for all of them (it is frozen)
    return Visit(
        last_access_at=now if (stale or page_changed or ip_changed) else None,
        ip=ip if ip_changed else None,
        page=page if page_changed else None,
    )
