"""KPI formulas, written once over plain numbers, each with the footnote printed on reports.

A formula returns ``None`` when its denominator is zero (shown as "—"), never 0 % or 100 %,
so an empty hour does not look like a perfect or a failed one.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

# The KPI formulas read the registry's totals; re-exported, as every report imports it here.
from backend.call_measures import CallTotals as CallTotals

DEFAULT_SL_THRESHOLD_SECONDS = 20
DEFAULT_SHORT_ABANDON_SECONDS = 5
SATISFIED_MIN_SCORE = 4  # survey 1..5: 4 (满意) and 5 (非常满意) count as satisfied
NIGHT_START_HOUR = 22
NIGHT_END_HOUR = 8


class SlFormula(enum.StrEnum):
    """How service level is computed; a per-queue setting (products disagree)."""

    OFFERED_MINUS_SHORT = "offered_minus_short"  # default
    ANSWERED = "answered"  # Asterisk's SL
    OFFERED = "offered"
    ABANDONS_WITHIN_T_COUNT = "abandons_within_t_count"  # Asterisk's SL2


def ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def service_level(
    t: CallTotals, formula: SlFormula = SlFormula.OFFERED_MINUS_SHORT
) -> float | None:
    if formula is SlFormula.ANSWERED:
        return ratio(t.answered_within_t, t.answered)
    if formula is SlFormula.OFFERED:
        return ratio(t.answered_within_t, t.offered)
    if formula is SlFormula.ABANDONS_WITHIN_T_COUNT:
        return ratio(t.answered_within_t + t.abandoned_within_t, t.offered)
    return ratio(t.answered_within_t, t.offered - t.short_abandoned)


def asa(t: CallTotals) -> float | None:
    return ratio(t.wait_answered_seconds, t.answered)


def average_wait(t: CallTotals) -> float | None:
    return ratio(t.wait_offered_seconds, t.offered)


def wait_percentile(t: CallTotals, p: float) -> int | None:
    """The smallest wait edge within which a share ``p`` of offered calls waited.

    ``None`` with no offered call; ``-1`` when the percentile lies beyond the last edge.
    """
    if not t.offered:
        return None
    for edge, count in t.waits_within():
        if count >= p * t.offered:
            return edge
    return -1


def aht(t: CallTotals) -> float | None:
    return ratio(t.handle_seconds, t.handled)


def average_talk(t: CallTotals) -> float | None:
    return ratio(t.talk_seconds, t.handled)


def average_hold(t: CallTotals) -> float | None:
    return ratio(t.hold_seconds, t.handled)


def average_wrapup(t: CallTotals) -> float | None:
    return ratio(t.wrapup_seconds, t.handled)


def abandonment_rate(t: CallTotals) -> float | None:
    """Abandons after the short-abandon threshold over queued calls minus short abandons."""
    return ratio(t.abandoned - t.short_abandoned, t.offered - t.short_abandoned)


def short_abandon_rate(t: CallTotals) -> float | None:
    return ratio(t.short_abandoned, t.offered)


def answer_rate(t: CallTotals) -> float | None:
    return ratio(t.answered, t.offered)


def transfer_rate(t: CallTotals) -> float | None:
    return ratio(t.transferred, t.answered)


def callback_rate(t: CallTotals) -> float | None:
    return ratio(t.callback_requested, t.offered)


def ivr_self_service_rate(t: CallTotals) -> float | None:
    return ratio(t.self_service, t.inbound)


def satisfaction_rate(t: CallTotals) -> float | None:
    return ratio(t.satisfied, t.surveyed)


def average_satisfaction(t: CallTotals) -> float | None:
    return ratio(t.satisfaction_points, t.surveyed)


def occupancy(handle_seconds: float, staffed_seconds: float) -> float | None:
    return ratio(handle_seconds, staffed_seconds)


def first_contact_resolution(resolved_first_contact: int, resolved: int) -> float | None:
    return ratio(resolved_first_contact, resolved)


def is_night_hour(local_hour: int) -> bool:
    return local_hour >= NIGHT_START_HOUR or local_hour < NIGHT_END_HOUR


SL_FOOTNOTES: dict[SlFormula, str] = {
    SlFormula.OFFERED_MINUS_SHORT: "服务水平 = T秒内接听数 ÷（进入队列数 − 短时放弃数）",
    SlFormula.ANSWERED: "服务水平 = T秒内接听数 ÷ 接听数",
    SlFormula.OFFERED: "服务水平 = T秒内接听数 ÷ 进入队列数",
    SlFormula.ABANDONS_WITHIN_T_COUNT: "服务水平 =（T秒内接听数 + T秒内放弃数）÷ 进入队列数",
}

FOOTNOTES: dict[str, str] = {
    "time": "按北京时间统计；跨午夜的通话计入其开始的日期与时段。",
    "inbound": "呼入量 = 呼入通话总数（含IVR自助、IVR内挂机；不含外呼回拨）。",
    "offered": "进入队列数 = 呼入后进入人工队列的通话数。",
    "asa": "平均应答速度(ASA) = 已接听通话的队列等待时长之和 ÷ 接听数（不含IVR时长）。",
    "average_wait": "平均等待时长 = 进入队列通话的队列等待时长之和 ÷ 进入队列数。",
    "wait_percentile": (
        "等待时长百分位按分档统计（5、10、15、20、30、45、60、90、120、180、300、600秒），"
        "取所在档的上限。"
    ),
    "aht": "平均处理时长(AHT) =（通话 + 保持 + 话后处理时长）÷ 坐席处理通话数。",
    "abandonment": (
        "放弃率 =（队列放弃数 − 短时放弃数）÷（进入队列数 − 短时放弃数）；"
        "短时放弃（等待不足{short}秒）单独列出。"
    ),
    "occupancy": (
        "占用率 =（通话 + 保持 + 话后处理时长）÷ 签入且非示忙时长"
        "（示忙含小休、用餐、培训、会议及未接后的自动示忙）。"
    ),
    "transfer": "转接率 = 转接通话数 ÷ 接听数。",
    "callback": "回拨率 = 选择回拨离开队列的通话数 ÷ 进入队列数；回拨外呼另计。",
    "self_service": "IVR自助率 = IVR自助办结通话数 ÷ 呼入量。",
    "satisfaction": "满意率 = 评价为4分或5分的通话数 ÷ 参与评价的通话数（1—5分）。",
    "fcr": "首次解决率 = 首次联系即办结的工单数 ÷ 已办结工单数。",
    "night": "夜班 = 北京时间22:00至次日08:00开始的通话。",
    "threshold": "T = 各队列设置的服务水平时限（默认20秒）。",
}


def footnotes(keys: Sequence[str], *, formula: SlFormula, short_abandon_seconds: int) -> list[str]:
    """The footnotes for a report page: the SL formula in use first, then each named KPI."""
    lines = [SL_FOOTNOTES[formula], FOOTNOTES["threshold"]]
    for key in keys:
        lines.append(FOOTNOTES[key].format(short=short_abandon_seconds))
    return lines


# The ACD writes after-call work as its own state (``wrap_up``: staffed). Not-ready is
# unavailable time whatever its reason (break, meal, training, meeting, no_answer), unless a
# writer marks after-call work as a not-ready reason.
WORK_REASONS = frozenset({"wrapup", "acw", "after_call_work"})


def is_staffed(state: str, reason: str) -> bool:
    """Logged in and not not-ready: the denominator of occupancy."""
    if state == "logged_out":
        return False
    return state != "not_ready" or reason in WORK_REASONS


def patience_estimate(wait_offered_seconds: float, abandoned: int) -> float | None:
    """Mean caller patience: total queue time over abandons (the exponential-patience MLE)."""
    return ratio(wait_offered_seconds, abandoned)
