"""`GET /api/v1/websites/{id}/reports`: a website's report as JSON, or its days as CSV
(docs/reports.md). Aggregates only (P3)."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from causerie.actions.reports import get_report
from causerie.domain.reports import FIGURES
from causerie.web.api_models import ERRORS, ReportOut
from causerie.web.deps import CurrentActor, Rt
from causerie.web.lean_route import LeanRoute
from causerie.web.responses import JSONResponse
from causerie.web.routes import access

router = APIRouter(prefix="/api/v1", tags=["agent"], responses=ERRORS, route_class=LeanRoute)


@router.get(
    "/websites/{website_id}/reports",
    response_model=ReportOut,
    summary="Figures per day and agent over a period, from aggregates only (P3); CSV on Accept",
    openapi_extra=access("agent"),
    responses={200: {"content": {"text/csv": {}}}},
)
async def report(
    website_id: str,
    request: Request,
    rt: Rt,
    actor: CurrentActor,
    first: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    last: Annotated[str | None, Query(alias="to", max_length=40)] = None,
    tz: Annotated[str | None, Query(max_length=80)] = None,
) -> Response:
    found = await get_report(rt, actor, website_id, first=first, last=last, tz=tz)
    if "text/csv" in request.headers.get("accept", ""):
        name = f"report-{found['from']}-{found['to']}.csv"
        return Response(
            _csv(found["days"]),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return JSONResponse(found)


def _csv(days: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(("date", *FIGURES))
    for day in days:
        writer.writerow([day["date"], *("" if day[n] is None else day[n] for n in FIGURES)])
    return out.getvalue()
