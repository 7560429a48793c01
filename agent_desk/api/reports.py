"""Report pages (HTML with inline SVG charts) and their CSV / XLSX / PDF downloads, the
staffing calculator, and the archive of scheduled reports. Every page needs ``REPORTS``.
"""

# No ``from __future__ import annotations``: FastAPI evaluates these annotations at runtime.

from collections.abc import Callable
from datetime import date, datetime, timedelta
from html import escape
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from agent_desk.api.recordings import team_scope
from agent_desk.auth.guard import caller_of, require
from agent_desk.auth.permissions import Permission, allowed
from agent_desk.deps import SessionDep, SettingsDep
from agent_desk.report_calls import calls_table
from agent_desk.report_form import FormField, filter_form, line_choices, skill_choices
from agent_desk.report_page import (
    REPORT_LINKS,
    desk_report_page,
    drill_url_for,
    file_response,
    report_response,
)
from backend.lines import LINE_CODES, is_line
from backend.localtime import zone
from backend.workorders.composition import default_calendar
from backend.workorders.exchange import CleanStr
from reports.agent_report import build_agent_report
from reports.archive import archived_file, archived_reports
from reports.booking_sheet import build_booking_sheet
from reports.call_list import KIND_LABELS, CallKind, calls_behind
from reports.confirmation_sheet import build_confirmation_sheet, previous_month
from reports.document import ReportDocument
from reports.halfyear_114 import build_halfyear_114
from reports.periods import EDITION_LABELS, Edition, Grain, ReportFilter, ReportInputError
from reports.presets import preset_range
from reports.recording_report import build_recording_report
from reports.service_report import build_service_report
from reports.staffing import build_staffing
from reports.workforce.forecast_report import build_forecast_report
from reports.workorder_report import build_workorder_report

Format = Literal["html", "csv", "xlsx", "pdf"]
LINE_CHOICES = " 或 ".join(LINE_CODES)  # "114 或 hotline"


async def local_today(settings: SettingsDep) -> date:
    """Today as the call centre counts it (the server may run on UTC)."""
    return datetime.now(zone(settings.timezone)).date()


Today = Annotated[date, Depends(local_today)]


# Dates a report may ask for: outside them the arithmetic of periods would overflow.
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)


def report_filter(
    settings: SettingsDep,
    today: Today,
    first: Annotated[
        date | None, Query(description="开始日期（北京时间）", ge=EARLIEST, le=LATEST)
    ] = None,
    last: Annotated[
        date | None, Query(description="结束日期（含）", ge=EARLIEST, le=LATEST)
    ] = None,
    preset: Annotated[
        str | None,
        Query(
            description="today、yesterday、this_week、this_month、last_month、this_half、last_half"
        ),
    ] = None,
    line: Annotated[str | None, Query(description=LINE_CHOICES)] = None,
    skill: str | None = None,
    agent_id: int | None = None,
    team: str | None = None,
    grain: Grain = Grain.DAY,
) -> ReportFilter:
    """The filter of a report page: a named range (``preset``) wins over dates; without
    either, the last seven days."""
    if preset:
        first, last = preset_range(preset, today)
    last = last or today
    first = first or last - timedelta(days=6)
    return ReportFilter(
        first=first,
        last=last,
        line=line or None,
        skill=skill or None,
        agent_id=agent_id,
        team=team or None,
        grain=grain,
        tz_name=settings.timezone,
    )


FilterDep = Annotated[ReportFilter, Depends(report_filter)]
FormatQuery = Annotated[Format, Query(alias="format")]

FilteredBuilder = Callable[[Session, ReportFilter], ReportDocument]
# Pages that take the common filter: path, title (also the download's name), builder.
FILTERED_REPORTS: tuple[tuple[str, str, FilteredBuilder], ...] = (
    ("/service", "服务水平", build_service_report),
    ("/agents", "坐席绩效", build_agent_report),
    ("/recordings", "录音统计", build_recording_report),
)


router = APIRouter(
    prefix="/reports", tags=["报表"], dependencies=[Depends(require(Permission.REPORTS))]
)


def _add_filtered_report(path: str, title: str, build: FilteredBuilder) -> None:
    def page(
        request: Request, session: SessionDep, f: FilterDep, fmt: FormatQuery = "html"
    ) -> Response:
        fields = filter_form(session, f, request.query_params.get("preset", ""))
        return report_response(
            request, build(session, f), fmt, f"{title}_{f.first}_{f.last}",
            fields=fields, drill_url=drill_url_for(f),
        )  # fmt: skip

    router.add_api_route(path, page, methods=["GET"], summary=title, name=path.strip("/"))


@router.get("", response_class=HTMLResponse, summary="报表目录")
def index(request: Request) -> Response:
    links = "".join(f'<li><a href="{url}">{escape(name)}</a></li>' for name, url in REPORT_LINKS)
    body = (
        f'<ul class="results">{links}</ul><p class="muted small">各报表页上方的表单选择日期范围、'
        "线路、技能组、班组、坐席与粒度；表中带下划线的数字可点开，列出其对应的来电。</p>"
    )
    return desk_report_page(request, title="统计报表", body=body)


@router.get("/calls", response_class=HTMLResponse, summary="报表数字对应的来电（下钻）")
def calls_behind_figure(
    request: Request,
    session: SessionDep,
    f: FilterDep,
    kind: CallKind = CallKind.INBOUND,
) -> Response:
    caller = caller_of(request)
    found = calls_behind(session, f, kind)
    can_play = allowed(caller.session.role, Permission.RECORDINGS)
    team = team_scope(session, caller) if can_play else None
    fields = [
        *filter_form(session, f, request.query_params.get("preset", ""))[:-1],
        FormField(
            "kind", "来电", "select", kind.value, [(k.value, v) for k, v in KIND_LABELS.items()]
        ),
    ]
    return desk_report_page(
        request, title=f"来电明细：{KIND_LABELS[kind]}", subtitle=f.describe(),
        body=calls_table(found, can_play=can_play, team=team), fields=fields,
    )  # fmt: skip


for _path, _title, _build in FILTERED_REPORTS:
    _add_filtered_report(_path, _title, _build)


@router.get("/halfyear-114", summary="114半年度统计报表")
def halfyear(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    today: Today,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    half: Annotated[int | None, Query(ge=1, le=2)] = None,
    fmt: FormatQuery = "html",
) -> Response:
    # Default: the last half year that has ended.
    default_year, default_half = (today.year - 1, 2) if today.month <= 6 else (today.year, 1)
    year, half = year or default_year, half or default_half
    doc = build_halfyear_114(session, year, half, tz_name=settings.timezone)
    fields = [
        year_field(year),
        FormField("half", "半年度", "select", str(half), [("1", "上半年"), ("2", "下半年")]),
    ]
    return report_response(request, doc, fmt, f"114半年度统计_{year}H{half}", fields=fields)


@router.get("/booking-sheet", summary="预约月度确认单")
def booking_sheet(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    today: Today,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    fmt: FormatQuery = "html",
) -> Response:
    year = year or today.year
    doc = build_booking_sheet(session, year, settings.timezone)
    return report_response(request, doc, fmt, f"预约确认单_{year}", fields=[year_field(year)])


@router.get("/confirmation-sheet", summary="预约月度确认单（计费）")
def confirmation_sheet(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    today: Today,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    month: Annotated[int | None, Query(ge=1, le=12)] = None,
    fmt: FormatQuery = "html",
) -> Response:
    # Default: the month that has ended, the one the beat job bills.
    default_year, default_month = previous_month(today)
    year, month = year or default_year, month or default_month
    doc = build_confirmation_sheet(session, settings.booking, year, month, settings.timezone)
    months = [(str(m), f"{m}月") for m in range(1, 13)]
    fields = [year_field(year), FormField("month", "月份", "select", str(month), months)]
    return report_response(request, doc, fmt, f"月度确认单_{year}{month:02d}", fields=fields)


@router.get("/workorders", summary="工单统计")
def workorders(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    today: Today,
    edition: Edition = Edition.MONTHLY,
    day: Annotated[date | None, Query(ge=EARLIEST, le=LATEST)] = None,
    fmt: FormatQuery = "html",
) -> Response:
    day = day or today
    doc = build_workorder_report(session, edition, day, settings.timezone)
    editions = [(e.value, label) for e, label in EDITION_LABELS.items()]
    fields = [
        FormField("edition", "版本", "select", edition.value, editions),
        FormField("day", "所含日期", "date", day.isoformat()),
    ]
    return report_response(request, doc, fmt, f"工单统计_{edition.value}_{day}", fields=fields)


@router.get("/staffing", summary="排班测算")
def staffing(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    today: Today,
    day: Annotated[date | None, Query(ge=EARLIEST, le=LATEST)] = None,
    line: str = "114",
    target: Annotated[float | None, Query(gt=0, lt=1)] = None,
    seconds: Annotated[int, Query(ge=1, le=600)] = 20,
    fmt: FormatQuery = "html",
) -> Response:
    day = day or today
    if not is_line(line):
        raise ReportInputError(f"未知线路：{line}")
    doc = build_staffing(
        session, day, line, target_level=target, target_seconds=seconds, tz_name=settings.timezone
    )
    fields = [
        FormField("day", "日期", "date", day.isoformat()),
        FormField("line", "线路", "select", line, line_choices(with_all=False)),
        FormField("target", "目标服务水平(0-1)", "number", "" if target is None else str(target)),
        FormField("seconds", "目标秒数", "number", str(seconds), minimum="1", maximum="600"),
    ]
    return report_response(request, doc, fmt, f"排班测算_{line}_{day}", fields=fields)


@router.get("/forecast", summary="来电预测与实际")
def forecast_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    today: Today,
    first: Annotated[date | None, Query(ge=EARLIEST, le=LATEST)] = None,
    days: Annotated[int, Query(ge=1, le=31)] = 7,
    line: str = "114",
    skill: Annotated[CleanStr, Query(max_length=32)] = "",
    fmt: FormatQuery = "html",
) -> Response:
    first = first or today
    if not is_line(line):
        raise ReportInputError(f"未知线路：{line}")
    doc = build_forecast_report(
        session, line, skill or None, first, days,
        calendar=default_calendar(), tz_name=settings.timezone, today=today,
    )  # fmt: skip
    fields = [
        FormField("first", "开始日期", "date", first.isoformat()),
        FormField("days", "天数", "number", str(days), minimum="1", maximum="31"),
        FormField("line", "线路", "select", line, line_choices(with_all=False)),
        FormField("skill", "技能组", "select", skill, skill_choices(session)),
    ]
    return report_response(request, doc, fmt, f"来电预测_{line}_{first}", fields=fields)


@router.get("/archive", response_class=HTMLResponse, summary="定时生成的报表")
def archive(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    kind: Annotated[str | None, Query(max_length=32, description="如 confirmation_sheet")] = None,
) -> Response:
    items = "".join(
        f'<tr><td><a href="/reports/archive/{r.id}">{escape(r.filename)}</a></td>'
        f"<td>{escape(r.kind)}</td><td>{r.period_start:%Y-%m-%d}</td><td>{escape(r.fmt)}</td>"
        f"<td>{r.created_at:%Y-%m-%d %H:%M}</td><td>{escape(r.mail)}</td></tr>"
        for r in archived_reports(session, settings.timezone, kind or None)
    )
    body = (
        "<table><tr><th>文件</th><th>类型</th><th>期间起</th><th>格式</th><th>生成时间</th>"
        f"<th>邮件</th></tr>{items}</table>"
    )
    return desk_report_page(request, title="定时生成的报表", body=body)


def year_field(year: int) -> FormField:
    return FormField("year", "年份", "number", str(year), minimum="2000", maximum="2100")


@router.get("/archive/{archive_id}", summary="下载定时生成的报表")
def archived(archive_id: int, session: SessionDep) -> Response:
    found = archived_file(session, archive_id)
    return file_response(found.content, found.fmt, found.filename.rsplit(".", 1)[0])
