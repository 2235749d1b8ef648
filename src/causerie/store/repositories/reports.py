"""`SqlReports`: the hourly, daily and monthly rollups and each conversation's facts
(docs/reports.md): writes in report_writes.py, reads in report_reads.py (their SQL in
report_sql.py)."""

from __future__ import annotations

from causerie.store.repositories.report_reads import ReportReads
from causerie.store.repositories.report_writes import ReportWrites


class SqlReports(ReportWrites, ReportReads):
    __slots__ = ()
