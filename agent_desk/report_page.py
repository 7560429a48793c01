"""A report as the desk shows it: inside the desk's layout and navigation, with its form,
tabs to the other reports, download links, and figures linked to the calls behind them; or
as a CSV / XLSX / PDF download."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from urllib.parse import quote, urlencode

from fastapi import Request, Response

from agent_desk.auth.guard import caller_of
from agent_desk.pages.routes import render_page
from agent_desk.report_form import FormField
from reports.document import Drill, ReportDocument
from reports.periods import ReportFilter
from reports.render_files import render_csv, render_pdf, render_xlsx
from reports.render_html import DrillUrl, render_body

MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
RENDERERS: dict[str, Callable[[ReportDocument], bytes]] = {
    "csv": render_csv,
    "xlsx": render_xlsx,
    "pdf": render_pdf,
}
REPORT_LINKS = (
    ("话务与服务水平", "/reports/service"),
    ("坐席绩效", "/reports/agents"),
    ("录音统计", "/reports/recordings"),
    ("114半年度统计报表", "/reports/halfyear-114"),
    ("预约月度确认单（计费）", "/reports/confirmation-sheet"),
    ("预约量年度汇总（按月）", "/reports/booking-sheet"),
    ("工单统计", "/reports/workorders"),
    ("排班测算（Erlang）", "/reports/staffing"),
    ("来电预测（预测与实际）", "/reports/forecast"),
    ("定时生成的报表", "/reports/archive"),
)
CALLS_PATH = "/reports/calls"


def desk_report_page(
    request: Request,
    *,
    title: str,
    body: str,
    subtitle: str = "",
    fields: Sequence[FormField] = (),
    downloads: Sequence[tuple[str, str]] = (),
    hidden: Sequence[tuple[str, str]] = (),
) -> Response:
    return render_page(
        request, "report.html", caller_of(request),
        title=title, heading=title, subtitle=subtitle, body=body, fields=fields,
        downloads=downloads, hidden=hidden, report_links=REPORT_LINKS,
    )  # fmt: skip


def report_response(
    request: Request,
    doc: ReportDocument,
    fmt: str,
    name: str,
    *,
    fields: Sequence[FormField] = (),
    drill_url: DrillUrl | None = None,
) -> Response:
    if fmt != "html":
        return file_response(RENDERERS[fmt](doc), fmt, name)
    downloads = [
        (label, str(request.url.include_query_params(format=f)))
        for label, f in (("CSV", "csv"), ("Excel", "xlsx"), ("PDF", "pdf"))
    ]
    return desk_report_page(
        request, title=doc.title, subtitle=doc.subtitle, body=render_body(doc, drill_url),
        fields=fields, downloads=downloads,
    )  # fmt: skip


def file_response(body: bytes, fmt: str, name: str) -> Response:
    return Response(
        body,
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}.{fmt}"},
    )


def filter_params(f: ReportFilter) -> dict[str, str]:
    """The filter as query parameters (empty scopes left out)."""
    params = {
        "first": f.first.isoformat(),
        "last": f.last.isoformat(),
        "line": f.line or "",
        "skill": f.skill or "",
        "team": f.team or "",
        "agent_id": "" if f.agent_id is None else str(f.agent_id),
    }
    return {k: v for k, v in params.items() if v}


def drill_url_for(f: ReportFilter) -> DrillUrl:
    """Where a figure of a report over ``f`` lists its calls: the filter narrowed by the
    figure's own scope (its period, line or skill) and its call kind."""

    def url(drill: Drill) -> str:
        params = {**filter_params(f), **drill}
        return f"{CALLS_PATH}?{urlencode({k: v for k, v in params.items() if v})}"

    return url
