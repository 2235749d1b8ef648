"""`GET /api/v1/websites/{id}/reports`: a website's report as JSON, or its days as CSV
(docs/reports.md). Aggregates only (P3)."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from causerie.actions.reports import get_report
from causerie.domain.reports import BREAKDOWNS, FIGURES, Dimension
from causerie.web.api_models import ERRORS
from causerie.web.api_models.reports import ReportOut
from causerie.web.deps import CurrentActor, Rt
from causerie.web.lean_route import LeanRoute
from causerie.web.responses import JSONResponse
from causerie.web.routes import access

router = APIRouter(prefix="/api/v1", tags=["agent"], responses=ERRORS, route_class=LeanRoute)


@router.get(
    "/websites/{website_id}/reports",
    response_model=ReportOut,
    summary="Figures per day, agent, label or team over a period, from aggregates only (P3)",
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
    by: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    found = await get_report(rt, actor, website_id, first=first, last=last, tz=tz, by=by)
    if "text/csv" in request.headers.get("accept", ""):
        rows, column = found["days"], "date"
        if by:  # the breakdown's rows instead of the days (`by` was checked by get_report)
            name, column = BREAKDOWNS[Dimension(by)]
            rows = found[name]
        name = f"report-{found['from']}-{found['to']}{'-' + by if by else ''}.csv"
        return Response(
            _csv(rows, column),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return JSONResponse(found)


def _csv(rows: list[dict[str, Any]], first: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow((first, *FIGURES))
    for row in rows:
        writer.writerow([row[first], *("" if row[n] is None else row[n] for n in FIGURES)])
    return out.getvalue()
