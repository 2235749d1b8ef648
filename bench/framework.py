"""The framework server of the benches (`python -m bench.serve framework`), in a module of its
own: the bare servers of bench/serve.py never import pydantic (docs/performance.md,
"lighter4"), where they loaded it for this body model."""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import BaseModel, Field
from starlette.responses import JSONResponse
from starlette.types import ASGIApp

from bench.serve import BARE_ANSWER


class FloorPage(BaseModel):
    url: str = Field(default="", max_length=2048)
    title: str = Field(default="", max_length=500)
    referrer: str = Field(default="", max_length=2048)


class FloorSession(BaseModel):
    """The shape of a chatbox load's body, as a plain FastAPI body model."""

    token: str | None = Field(default=None, min_length=1, max_length=100)
    page: FloorPage
    locale: str | None = None
    timezone: str | None = Field(default=None, max_length=64)


def framework_app() -> ASGIApp:
    """The framework's floor: FastAPI with one ordinary route at Causerie's path, a body model
    answering as the bare endpoint does, handled as FastAPI handles any route (no Causerie code).
    Causerie cannot answer a chatbox load for less than this; the gap between it and the bare
    endpoint is FastAPI's own cost per request."""
    app = FastAPI(telemetry={"tracing": False, "metrics": False, "logs": False})  # as Causerie

    @app.post("/api/widget/v1/websites/{website_id}/session")
    async def session(website_id: str, body: FloorSession) -> JSONResponse:
        return JSONResponse(BARE_ANSWER)  # as the bare endpoint answers: no response model

    @app.get("/api/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
