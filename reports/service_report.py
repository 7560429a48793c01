"""Calls and service: the KPI list by period, the call-arrival cycle, night shift, intents."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import datetime, timedelta
from functools import partial
from typing import Literal

from sqlalchemy.orm import Session

from backend.lines import LINE_LABELS
from reports import kpi
from reports.abandoned import abandoned_calls
from reports.definitions import QueueDefinition, queue_definition
from reports.document import (
    Cell,
    Chart,
    Drill,
    Figure,
    ReportDocument,
    Section,
    Table,
    pct,
    secs,
    wait_edge,
)
from reports.kpi import CallTotals
from reports.periods import WEEKDAY_LABELS, Grain, GroupBy, ReportFilter, period_label
from reports.query import Source, call_totals, intent_mix

KpiCell = Callable[[CallTotals, QueueDefinition], Cell]
# The KPI list of every service table: column label, the cell of one group's totals.
KPI_LIST: tuple[tuple[str, KpiCell], ...] = (
    ("呼入量", lambda t, d: t.inbound),
    ("进入队列", lambda t, d: t.offered),
    ("接听", lambda t, d: t.answered),
    ("T秒内接听", lambda t, d: t.answered_within_t),
    ("服务水平", lambda t, d: pct(kpi.service_level(t, d.formula))),
    ("平均应答速度(秒)", lambda t, d: secs(kpi.asa(t))),
    ("平均等待(秒)", lambda t, d: secs(kpi.average_wait(t))),
    ("90%等待(秒)", lambda t, d: wait_edge(kpi.wait_percentile(t, 0.9))),
    ("放弃", lambda t, d: t.abandoned),
    ("短时放弃", lambda t, d: t.short_abandoned),
    ("放弃率", lambda t, d: pct(kpi.abandonment_rate(t))),
    ("平均处理时长(秒)", lambda t, d: secs(kpi.aht(t))),
    ("转接率", lambda t, d: pct(kpi.transfer_rate(t))),
    ("回拨率", lambda t, d: pct(kpi.callback_rate(t))),
    ("IVR自助率", lambda t, d: pct(kpi.ivr_self_service_rate(t))),
    ("满意率", lambda t, d: pct(kpi.satisfaction_rate(t))),
)
KPI_COLUMNS = [label for label, _ in KPI_LIST]
KPI_FOOTNOTE_KEYS = [
    "time",
    "inbound",
    "offered",
    "asa",
    "average_wait",
    "wait_percentile",
    "aht",
    "abandonment",
    "transfer",
    "callback",
    "self_service",
    "satisfaction",
    "night",
]


def kpi_cells(t: CallTotals, definition: QueueDefinition) -> list[Cell]:
    return [cell(t, definition) for _, cell in KPI_LIST]


# The KPI list's counts that link to the calls they count (``reports.call_list.CallKind``).
DRILL_COLUMNS = {"呼入量": "inbound", "进入队列": "queued", "接听": "answered", "放弃": "abandoned"}


def kpi_table(
    title: str, first_column: str, rows: list[tuple[str, CallTotals]], definition: QueueDefinition
) -> Table:
    """A table of the KPI list, one row per labelled group."""
    return Table(
        title,
        [first_column, *KPI_COLUMNS],
        [[label, *kpi_cells(t, definition)] for label, t in rows],
        drill_columns=DRILL_COLUMNS,
    )


def period_drill(start: datetime, f: ReportFilter) -> Drill:
    """The dates of one period row (a local period start), inside the filter's range."""
    first = start.date()
    if f.grain is Grain.WEEK:
        after = first + timedelta(days=7)
    elif f.grain is Grain.MONTH:
        after = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    else:
        after = first + timedelta(days=1)
    last = min(after - timedelta(days=1), f.last)
    return {"first": max(first, f.first).isoformat(), "last": last.isoformat()}


def _percent(value: float | None) -> float:
    return 0.0 if value is None else round(value * 100, 1)


def _sorted(totals: dict[Hashable, CallTotals]) -> list[tuple[Hashable, CallTotals]]:
    return sorted(totals.items(), key=lambda item: str(item[0]))


def build_service_report(
    session: Session, f: ReportFilter, *, source: Source = Source.AUTO
) -> ReportDocument:
    definition = queue_definition(session, f)
    totals = partial(call_totals, session, f, source=source)
    total = totals(GroupBy.TOTAL).get(0, CallTotals())
    return ReportDocument(
        "话务与服务水平报表",
        f.describe(),
        headline=headline_figures(total, definition),
        sections=[
            _overall_section(total, definition),
            _period_section(totals, f, definition),
            _line_and_skill_section(totals, definition),
            arrival_cycle_section(session, f, source=source),
            _night_section(totals, definition),
            _intent_section(session, f),
            Section(
                "放弃来电清单",
                tables=[abandoned_calls(session, f)],
                notes=["不含短时放弃；号码已脱敏；最多列出200条，按时间倒序。"],
            ),
        ],
        footnotes=definition.footnotes(KPI_FOOTNOTE_KEYS),
    )


TotalsBy = Callable[[GroupBy], dict[Hashable, CallTotals]]


def headline_figures(t: CallTotals, definition: QueueDefinition) -> list[Figure]:
    """The figures a supervisor reads first; counts link to their calls."""
    return [
        Figure("呼入量", str(t.inbound), {"kind": "inbound"}),
        Figure("接听", str(t.answered), {"kind": "answered"}),
        Figure("放弃", str(t.abandoned), {"kind": "abandoned"}),
        Figure("服务水平", pct(kpi.service_level(t, definition.formula))),
        Figure("放弃率", pct(kpi.abandonment_rate(t))),
        Figure("平均应答速度(秒)", secs(kpi.asa(t))),
        Figure("满意率", pct(kpi.satisfaction_rate(t))),
    ]


def _overall_section(total: CallTotals, definition: QueueDefinition) -> Section:
    table = kpi_table("总体指标", "范围", [("合计", total)], definition)
    table.drill_rows = {0: {}}
    return Section("总体指标", tables=[table])


def _period_section(totals: TotalsBy, f: ReportFilter, definition: QueueDefinition) -> Section:
    by_period = _sorted(totals(GroupBy.PERIOD))
    labels = [period_label(k, f.grain) for k, _ in by_period if isinstance(k, datetime)]
    period_rows = [(label, t) for label, (_, t) in zip(labels, by_period, strict=True)]
    series = {
        "呼入量": [float(t.inbound) for _, t in by_period],
        "接听": [float(t.answered) for _, t in by_period],
    }
    kind: Literal["bar", "line"] = "line" if len(labels) > 40 else "bar"
    levels = {
        "服务水平": [_percent(kpi.service_level(t, definition.formula)) for _, t in by_period],
        "放弃率": [_percent(kpi.abandonment_rate(t)) for _, t in by_period],
    }
    table = kpi_table("分时段指标", "时段", period_rows, definition)
    if f.grain is not Grain.HOUR:  # an hour's calls are listed with their whole day
        table.drill_rows = {
            i: period_drill(k, f) for i, (k, _) in enumerate(by_period) if isinstance(k, datetime)
        }
    return Section(
        "分时段指标",
        tables=[table],
        charts=[
            Chart("呼入量与接听量", labels, series, kind=kind),
            Chart("服务水平与放弃率", labels, levels, kind="line", unit="%"),
        ],
    )


def _line_and_skill_section(totals: TotalsBy, definition: QueueDefinition) -> Section:
    by_line = _sorted(totals(GroupBy.LINE))
    by_skill = _sorted(totals(GroupBy.SKILL))
    line_rows = [(LINE_LABELS.get(str(k), str(k)), t) for k, t in by_line]
    skill_rows = [(str(k) or "（未分配）", t) for k, t in by_skill]
    lines = kpi_table("按线路", "线路", line_rows, definition)
    lines.drill_rows = {i: {"line": str(k)} for i, (k, _) in enumerate(by_line)}
    skills = kpi_table("按技能组", "技能组", skill_rows, definition)
    skills.drill_rows = {i: {"skill": str(k)} for i, (k, _) in enumerate(by_skill) if k}
    return Section(
        "按线路与技能组",
        tables=[lines, skills],
        charts=[
            Chart(
                "各技能组呼入与接听",
                [label for label, _ in skill_rows],
                {
                    "呼入量": [float(t.inbound) for _, t in skill_rows],
                    "接听": [float(t.answered) for _, t in skill_rows],
                },
            )
        ],
    )


def _night_section(totals: TotalsBy, definition: QueueDefinition) -> Section:
    night = totals(GroupBy.NIGHT)
    shifts = [("夜班", night.get(True, CallTotals())), ("日间", night.get(False, CallTotals()))]
    return Section(
        "夜班数据（22:00—08:00）",
        tables=[kpi_table("夜班与日间对比", "班次", shifts, definition)],
    )


def _intent_section(session: Session, f: ReportFilter) -> Section:
    intents = intent_mix(session, f)
    inbound = sum(intents.values())
    rows: list[list[Cell]] = [
        [name or "未识别", calls, pct(kpi.ratio(calls, inbound))]
        for name, calls in sorted(intents.items(), key=lambda i: -i[1])
    ]
    return Section("来电意图构成", tables=[Table("来电意图构成", ["意图", "呼入量", "占比"], rows)])


def arrival_cycle_section(
    session: Session, f: ReportFilter, *, source: Source = Source.AUTO
) -> Section:
    """Calls by hour of day and by weekday: when callers call (the staffing pattern)."""
    by_hour = call_totals(session, f, GroupBy.HOUR_OF_DAY, source=source)
    by_weekday = call_totals(session, f, GroupBy.DAY_OF_WEEK, source=source)
    days = f.days
    weekday_counts = _weekday_counts(f)
    hour_rows: list[list[Cell]] = []
    inbound_total = sum(t.inbound for t in by_hour.values())
    for hour in range(24):
        t = by_hour.get(hour, CallTotals())
        hour_rows.append(
            [
                f"{hour:02d}:00",
                t.inbound,
                pct(kpi.ratio(t.inbound, inbound_total)),
                round(t.inbound / days, 1),
                t.answered,
            ]
        )
    weekday_rows: list[list[Cell]] = []
    for day in range(1, 8):
        t = by_weekday.get(day, CallTotals())
        per_day = kpi.ratio(t.inbound, weekday_counts[day])
        weekday_rows.append(
            [
                WEEKDAY_LABELS[day],
                t.inbound,
                weekday_counts[day],
                round(per_day or 0.0, 1),
                t.answered,
            ]
        )
    return Section(
        "来电到达周期分析",
        tables=[
            Table("按小时到达分布", ["时段", "呼入量", "占比", "日均呼入", "接听"], hour_rows),
            Table("按星期到达分布", ["星期", "呼入量", "天数", "日均呼入", "接听"], weekday_rows),
        ],
        charts=[
            Chart(
                "按小时日均呼入量",
                [f"{h:02d}" for h in range(24)],
                {"日均呼入": [by_hour.get(h, CallTotals()).inbound / days for h in range(24)]},
            ),
        ],
    )


def _weekday_counts(f: ReportFilter) -> dict[int, int]:
    counts = {d: 0 for d in range(1, 8)}
    for offset in range(f.days):
        counts[(f.first.isoweekday() + offset - 1) % 7 + 1] += 1
    return counts
