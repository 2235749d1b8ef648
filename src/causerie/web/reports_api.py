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

# actions/reports.py _day: YYYY-MM-DD, from 1970-01-01 to 2999-12-31
_DATE: dict[str, Any] = {"format": "date", "pattern": "^(19[7-9][0-9]|2[0-9]{3})-"}


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
    # A date the domain refuses (its code and message); the document declares its form.
    first: Annotated[
        str | None, Query(alias="from", max_length=40, json_schema_extra=_DATE)
    ] = None,
    last: Annotated[str | None, Query(alias="to", max_length=40, json_schema_extra=_DATE)] = None,
    tz: Annotated[str | None, Query(max_length=80)] = None,
    by: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    found = await get_report(rt, actor, website_id, first=first, last=last, tz=tz, by=by)
    if wants_csv(request.headers.get("accept", "")):
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


def wants_csv(accept: str) -> bool:
    """Whether `Accept` names `text/csv` with a weight above 0 and at least JSON's (through
    `application/json`, `application/*` or `*/*`): `text/csv;q=0` refuses CSV, and
    `text/csv;q=0.5, application/json` prefers JSON, as HTTP's negotiation says; a client that
    does not name CSV (`*/*`, a browser's default) gets JSON."""
    csv_q: float | None = None
    json_q = {"application/json": -1.0, "application/*": -1.0, "*/*": -1.0}
    for item in accept.split(","):
        media, *params = (part.strip() for part in item.split(";"))
        media = media.lower()
        weight = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    weight = 0.0
        if media == "text/csv":
            csv_q = max(csv_q or 0.0, weight)
        elif media in json_q:
            json_q[media] = max(json_q[media], weight)
    if not csv_q:
        return False
    # The most specific range naming JSON sets its weight (RFC 9110, 12.5.1).
    json_weight = next((q for q in json_q.values() if q >= 0), 0.0)
    return csv_q >= json_weight


def _csv(rows: list[dict[str, Any]], first: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow((first, *FIGURES))
    for row in rows:
        writer.writerow([row[first], *("" if row[n] is None else row[n] for n in FIGURES)])
    return out.getvalue()
