"""Work orders: counts by category, department and industry; response, resolution,
satisfaction and first-contact resolution rates; overdue; hot spots and repeat callers.
Weekly, monthly, quarterly, half-year and annual editions."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from backend.localtime import DEFAULT_TIMEZONE
from reports import kpi
from reports.document import Cell, Chart, ReportDocument, Section, Table, pct
from reports.periods import EDITION_LABELS, Edition, ReportFilter, edition_range

RATE_COLUMNS = ["工单数", "已办结", "解决率", "满意率", "超期"]
# One row's rates: response = left intake; resolution and satisfaction over the orders
# whose outcome is known; FCR = resolved with no supervision round and no repeat order.
RATES = """count(*) AS orders,
  count(*) FILTER (WHERE state = 'closed') AS closed,
  count(*) FILTER (WHERE state <> 'created') AS responded,
  count(*) FILTER (WHERE resolved) AS resolved,
  count(*) FILTER (WHERE resolved IS NOT NULL) AS judged,
  count(*) FILTER (WHERE satisfied) AS satisfied,
  count(*) FILTER (WHERE satisfied IS NOT NULL) AS surveyed,
  count(*) FILTER (WHERE overdue OR overdue_count > 0) AS overdue,
  count(*) FILTER (WHERE ic.satisfaction IS NOT NULL) AS call_surveyed,
  count(*) FILTER (WHERE ic.satisfaction >= :satisfied_min) AS call_satisfied,
  count(*) FILTER (WHERE resolved AND supervision_round = 0 AND NOT EXISTS (
    SELECT 1 FROM work_orders later WHERE later.repeat_of_id = w.id)) AS first_contact"""
IN_RANGE = "w.created_at >= :start AND w.created_at < :end"
# An order with its intake call (call_records.call_id is unique: one row per order), whose
# post-call survey gives the 来电满意率 (docs/survey.md).
ORDERS = "work_orders w LEFT JOIN call_records ic ON ic.call_id = w.call_id"
HOTSPOT_MIN_ORDERS = 2
LIST_LIMIT = 20


def _rate_cells(row: Any) -> list[Cell]:
    return [
        row.orders,
        row.closed,
        pct(kpi.ratio(row.resolved, row.judged)),
        pct(kpi.ratio(row.satisfied, row.surveyed)),
        row.overdue,
    ]


def _grouped(session: Session, key: str, params: dict[str, Any]) -> list[list[Cell]]:
    rows = session.execute(
        text(
            f"SELECT {key} AS k, {RATES} FROM {ORDERS} WHERE {IN_RANGE} "
            "GROUP BY 1 ORDER BY orders DESC, k"
        ),
        params,
    )
    return [[row.k or "未分类", *_rate_cells(row)] for row in rows]


def build_workorder_report(
    session: Session, edition: Edition, day: date, tz_name: str = DEFAULT_TIMEZONE
) -> ReportDocument:
    first, last = edition_range(edition, day)
    start, end = ReportFilter(first=first, last=last, tz_name=tz_name).utc_range()
    params: dict[str, Any] = {
        "start": start,
        "end": end,
        "n": HOTSPOT_MIN_ORDERS,
        "tz": tz_name,
        "satisfied_min": kpi.SATISFIED_MIN_SCORE,
    }
    return ReportDocument(
        f"工单统计{EDITION_LABELS[edition]}",
        f"{first.isoformat()} 至 {last.isoformat()}",
        sections=[
            _rates_section(session, params),
            _categories_section(session, params),
            _hotspots_section(session, params),
        ],
        footnotes=list(FOOTNOTES),
    )


def _rates_section(session: Session, params: dict[str, Any]) -> Section:
    total = session.execute(text(f"SELECT {RATES} FROM {ORDERS} WHERE {IN_RANGE}"), params).one()
    rates: list[list[Cell]] = [
        ["响应率", pct(kpi.ratio(total.responded, total.orders))],
        ["解决率", pct(kpi.ratio(total.resolved, total.judged))],
        ["满意率", pct(kpi.ratio(total.satisfied, total.surveyed))],
        ["来电满意率", pct(kpi.ratio(total.call_satisfied, total.call_surveyed))],
        ["首次解决率", pct(kpi.first_contact_resolution(total.first_contact, total.resolved))],
        ["超期工单", total.overdue],
        ["工单总数", total.orders],
    ]
    return Section("三率与总体情况", tables=[Table("三率", ["指标", "数值"], rates)])


# (table title, first column, the SQL of the group key)
GROUPINGS = (
    ("按问题类别", "类别", "split_part(w.category, '/', 1)"),
    ("按承办部门（排名）", "部门", "w.department"),
    ("按行业", "行业", "w.industry"),
)


def _categories_section(session: Session, params: dict[str, Any]) -> Section:
    tables = [
        Table(title, [first_column, *RATE_COLUMNS], _grouped(session, key, params))
        for title, first_column, key in GROUPINGS
    ]
    by_category = tables[0].rows  # GROUPINGS[0]: by category, most orders first
    chart = Chart(
        "按问题类别的工单数与已办结数",
        [str(row[0]) for row in by_category],
        {
            "工单数": [float(row[1] or 0) for row in by_category],
            "已办结": [float(row[2] or 0) for row in by_category],
        },
        unit="件",
    )
    return Section("分类统计", tables=tables, charts=[chart])


def _hotspots_section(session: Session, params: dict[str, Any]) -> Section:
    hotspots = session.execute(
        text(
            f"""SELECT hotspot_key, count(*) AS orders,
              count(DISTINCT NULLIF(caller_phone_hash, '')) AS callers,
              min(created_at AT TIME ZONE :tz)::date AS first_day,
              max(created_at AT TIME ZONE :tz)::date AS last_day
            FROM work_orders w WHERE {IN_RANGE} AND hotspot_key <> ''
            GROUP BY 1 HAVING count(*) >= :n ORDER BY orders DESC, hotspot_key LIMIT {LIST_LIMIT}"""
        ),
        params,
    )
    repeaters = session.execute(
        text(
            f"""SELECT left(caller_phone_hash, 8) AS who, count(*) AS orders,
              string_agg(DISTINCT split_part(category, '/', 1), '、') AS categories
            FROM work_orders w WHERE {IN_RANGE} AND caller_phone_hash <> ''
            GROUP BY caller_phone_hash HAVING count(*) >= :n
            ORDER BY orders DESC, who LIMIT {LIST_LIMIT}"""
        ),
        params,
    )
    long_open = session.execute(
        text(
            "SELECT count(*) FROM work_orders WHERE state <> 'closed' "
            "AND created_at < :end - interval '30 days'"
        ),
        params,
    ).scalar_one()
    return Section(
        "热点与重复来电",
        tables=[
            Table(
                "热点问题（多人反映同一问题）",
                ["热点", "工单数", "来电人数", "首次", "最近"],
                [
                    [r.hotspot_key, r.orders, r.callers, str(r.first_day), str(r.last_day)]
                    for r in hotspots
                ],
            ),
            Table(
                "重复来电人（一人多次反映）",
                ["来电人（匿名编号）", "工单数", "问题类别"],
                [[f"#{r.who}", r.orders, r.categories or ""] for r in repeaters],
            ),
        ],
        notes=[f"长期未办结（受理超过30天仍未办结）的工单：{long_open}件。"],
    )


FOOTNOTES = [
    "按北京时间的受理时间统计。",
    "响应率 = 已签收（离开受理状态）的工单数 ÷ 工单数。",
    "解决率 = 回访认定已解决的工单数 ÷ 已认定解决情况的工单数。",
    "满意率 = 回访满意的工单数 ÷ 已回访评价的工单数。",
    "来电满意率 = 受理来电的按键评价为4分或5分的工单数 ÷ 受理来电参与评价的工单数（坐席挂机后的1—5分评价）。",
    kpi.FOOTNOTES["fcr"] + "（未经督办且无后续重复工单）",
    "超期 = 曾超过办理时限的工单。重复来电人以号码的密钥散列编号显示，不显示号码。",
]
