"""The drill-down page's table: the calls behind a figure, each with its recording when the
person may play it (the ``RECORDINGS`` permission, and the own team's calls only unless the
role sees every team's, as on the recordings page; every play is audited there)."""

from __future__ import annotations

from html import escape

from reports.call_list import CallList, ListedCall

COLUMNS = (
    "开始时间",
    "线路",
    "技能组",
    "坐席",
    "来电号码",
    "等待(秒)",
    "通话(秒)",
    "结果",
    "满意度",
    "录音",
)


def may_play(call: ListedCall, can_play: bool, team: str | None) -> bool:
    """``team``: the only team whose recordings the person may play (None: every team)."""
    if not can_play or call.recording_id is None:
        return False
    return team is None or call.agent_team == team


def calls_table(found: CallList, *, can_play: bool, team: str | None) -> str:
    head = "".join(f"<th>{c}</th>" for c in COLUMNS)
    rows = "".join(_row(call, may_play(call, can_play, team)) for call in found.calls)
    shown = len(found.calls)
    more = f"（显示最近 {shown} 条）" if shown < found.total else ""
    return (
        f'<p id="call-count">共 <b>{found.total}</b> 通{more}</p>'
        f'<table id="call-list"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'
    )


def _row(call: ListedCall, playable: bool) -> str:
    wait = "" if call.wait_seconds is None else f"{call.wait_seconds:.1f}"
    if playable:
        audio = (
            f'<audio controls preload="none" src="/api/recordings/{call.recording_id}/audio">'
            "</audio>"
        )
    else:
        audio = "有" if call.recording_id is not None else "—"
    cells = (
        f"{call.started_at:%Y-%m-%d %H:%M:%S}", call.line, call.skill, call.agent,
        call.caller_number, wait, f"{call.talk_seconds:.0f}", call.outcome,
        "" if call.satisfaction is None else str(call.satisfaction),
    )  # fmt: skip
    tds = "".join(f"<td>{escape(c)}</td>" for c in cells)
    return f'<tr data-call="{escape(call.call_id)}">{tds}<td>{audio}</td></tr>'
