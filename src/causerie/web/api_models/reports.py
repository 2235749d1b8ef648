"""The shapes of `/api/v1/websites/{id}/reports` (SPEC.md "Reports")."""

# Annotations evaluated as the classes are made: see this package's __init__.

from pydantic import Field

from causerie.web.api_models import Out


class ReportFigures(Out):
    """The figures of SPEC.md "Reports" (durations in seconds; null when nothing to measure)."""

    chatbox_loads: int
    sessions_created: int
    conversations_started: int
    conversations_resolved: int
    messages_visitor: int
    messages_operator: int
    first_response_median: int | None
    first_response_p90: int | None
    resolution_median: int | None
    resolution_p90: int | None
    ratings_count: int
    ratings_average: float | None


class ReportDay(ReportFigures):
    date: str


class ReportAgent(ReportFigures):
    operator_id: str


class ReportLabel(ReportFigures):
    label_id: str


class ReportTeam(ReportFigures):
    team_id: str


class ReportPrevious(Out):
    from_: str = Field(alias="from")
    to: str
    totals: ReportFigures


class ReportOut(Out):
    from_: str = Field(alias="from")
    to: str
    tz: str
    totals: ReportFigures
    days: list[ReportDay]
    agents: list[ReportAgent]
    labels: list[ReportLabel] | None = None  # with `by=label`
    teams: list[ReportTeam] | None = None  # with `by=team`
    heatmap: list[list[int]]  # 7 local weekdays (Monday first) x 24 local hours: started
    previous: ReportPrevious
