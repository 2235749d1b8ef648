"""How long things live: sockets, cookies, logins, sessions, what is retained (docs/privacy.md),
and the background work that enforces it."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict

from causerie.settings.declare import setting
from causerie.settings.units import Duration, Retention, from_text


def _session_start(text: str) -> str:
    value = text.strip().lower()
    if value not in ("load", "open"):
        raise ValueError("expected load (on page load) or open (when the chatbox is opened)")
    return value


SessionStart = Annotated[str, from_text(_session_start)]  # load or open


class LifetimeSettings(BaseModel):
    model_config = ConfigDict(defer_build=True)  # only validated as part of Settings

    ws_idle_timeout: Duration = setting(
        "90s",
        "A WebSocket that sends nothing (not even a ping) for this long is closed.",
    )
    cookie_max_age: Duration = setting(
        "182d",
        "Lifetime of the chatbox cookie, renewed on every load (P14).",
    )
    login_ttl: Duration = setting(
        "14d",
        "An inbox login ends after this long without use.",
    )
    temporary_session_ttl: Duration = setting(
        "30m",
        "A session without messages is destroyed this long after its last access (P15, P17).",
    )
    chat_ip_retention: Retention = setting(
        "365d",
        "How long the IP of a visitor who chatted is kept (P18); 'forever' allowed.",
    )
    conversation_retention: Retention = setting(
        "forever",
        "Resolved conversations idle this long are deleted; 'forever' keeps them.",
    )
    audit_retention: Retention = setting(
        "365d",
        "How long audit entries are kept; 'forever' allowed.",
    )
    session_start: SessionStart = setting(
        "load",
        "load: the chatbox session starts on page load (P14, P15); open: nothing is stored on "
        "the device and no session exists until the visitor opens the chatbox.",
    )
    purge_interval: Duration = setting(
        "1m",
        "How often the server runs the retention rules by itself.",
    )
    job_lease: Duration = setting(
        "5m",
        "A background job whose node stops renewing its claim for this long (the node died) "
        "runs again on another node.",
    )
