"""What the server logs."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict

from causerie.settings.declare import setting
from causerie.settings.units import Switch, from_text


def _log_level(text: str) -> str:
    level = text.strip().upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ValueError("expected debug, info, warning or error")
    return level


LogLevel = Annotated[str, from_text(_log_level)]  # upper case, as logging names levels


class LogSettings(BaseModel):
    model_config = ConfigDict(defer_build=True)  # only validated as part of Settings

    access_log: Switch = setting(
        "true",
        "Log one line per request (method, path, status, time; never an IP).",
    )
    log_level: LogLevel = setting(
        "info",
        "debug, info, warning or error.",
    )
