"""Recordings: count, hours and storage by line and by agent, and calls lacking a recording."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from backend.lines import LINE_LABELS
from reports.document import Cell, ReportDocument, Section, Table, hours, megabytes
from reports.kpi import CallTotals
from reports.measures import LINE_VALUE
from reports.periods import GroupBy, ReportFilter
from reports.query import Source, call_totals

COLUMNS = ["通话数", "有录音", "缺少录音", "录音时长(时)", "存储(MB)"]
MISSING_LIST_LIMIT = 200
# Why a call has no recording: kept off file on purpose (call_records.unrecorded, set when the
# disk watch had paused recordings), or lost.
UNRECORDED_LABELS = {"disk_full": "未录音：磁盘空间不足，按设定暂停录音"}
LOST = "录音丢失"


def _cells(t: CallTotals) -> list[Cell]:
    calls = t.recorded + t.missing_recording
    return [
        calls,
        t.recorded,
        t.missing_recording,
        hours(t.recording_seconds),
        megabytes(t.recording_bytes),
    ]


def missing_recordings(session: Session, f: ReportFilter) -> list[list[Cell]]:
    """Calls without a usable recording (there should be none), newest first, each with why:
    deliberately unrecorded (the disk was nearly full) or lost."""
    start, end = f.utc_range()
    line_where = f" AND {LINE_VALUE} = :line" if f.line else ""
    rows = session.execute(
        text(
            "SELECT c.call_id, c.started_at AT TIME ZONE :tz, "
            f"{LINE_VALUE}, c.disposition, c.agent_id, c.unrecorded FROM call_records c "
            "LEFT JOIN recordings r ON r.id = c.recording_id "
            "WHERE c.started_at >= :start AND c.started_at < :end "
            f"AND (r.id IS NULL OR r.status = 'MISSING'){line_where} "
            "ORDER BY c.started_at DESC, c.id DESC LIMIT :limit"
        ),
        {"tz": f.tz_name, "start": start, "end": end, "line": f.line, "limit": MISSING_LIST_LIMIT},
    )
    return [
        [
            call_id,
            f"{at:%Y-%m-%d %H:%M:%S}",
            LINE_LABELS.get(line, line),
            disposition.lower(),
            agent or "",
            UNRECORDED_LABELS.get(unrecorded, f"未录音：{unrecorded}") if unrecorded else LOST,
        ]
        for call_id, at, line, disposition, agent, unrecorded in rows
    ]


def build_recording_report(
    session: Session, f: ReportFilter, *, source: Source = Source.AUTO
) -> ReportDocument:
    by_line = call_totals(session, f, GroupBy.LINE, source=source)
    by_agent = call_totals(session, f, GroupBy.AGENT, source=source)
    numbers: dict[int, str] = {
        int(i): str(n) for i, n in session.execute(text("SELECT id, number FROM agents"))
    }
    missing = missing_recordings(session, f)
    return ReportDocument(
        "录音统计报表",
        f.describe(),
        sections=[
            Section(
                "按线路",
                tables=[
                    Table(
                        "录音按线路",
                        ["线路", *COLUMNS],
                        [
                            [LINE_LABELS.get(str(k), str(k)), *_cells(t)]
                            for k, t in sorted(by_line.items(), key=str)
                        ],
                    )
                ],
            ),
            Section(
                "按坐席",
                tables=[
                    Table(
                        "录音按坐席",
                        ["工号", *COLUMNS],
                        [
                            [numbers.get(int(k), str(k)), *_cells(t)]
                            for k, t in sorted(by_agent.items(), key=str)
                            if isinstance(k, int)
                        ],
                    )
                ],
            ),
            Section(
                "缺少录音的通话（应为零）",
                tables=[
                    Table(
                        "缺少录音的通话",
                        ["通话编号", "开始时间", "线路", "结果", "坐席", "原因"],
                        missing,
                    )
                ],
                notes=[f"最多列出{MISSING_LIST_LIMIT}条。"]
                if len(missing) == MISSING_LIST_LIMIT
                else [],
            ),
        ],
        footnotes=[
            "按北京时间统计；通话计入其开始的日期。",
            "有录音 = 关联录音且状态不是“缺失”；因保留期到期已删除的录音计为有录音，但不计存储。",
            "合同要求呼入、呼出、未接、放弃的每通电话都有录音，缺少录音应为零。",
            "原因“未录音：磁盘空间不足”：录音磁盘低于设定的剩余空间时，来电照常接通但不录音"
            "（CC_DISK_REFUSE_FREE_MB），并向班组长告警；“录音丢失”为意外缺失。",
        ],
    )
