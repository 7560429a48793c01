"""What each message says: a built-in text per event, replaced by an administrator's text
where one is saved (``sms_templates``), with ``{placeholder}`` fields filled when it is sent.

Only the placeholders listed for an event may appear in its text, and only as plain
``{name}`` (no attribute or index look-ups): a template is checked when it is saved, so a
typo is refused at the admin page instead of failing every message later.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from backend.errors import CallCenterError
from backend.models.sms import SmsTemplate
from backend.sms.outbox import SmsEvent

MAX_TEXT = 500

_BOOKING = ("code", "hospital", "department", "day", "time", "cancel_by", "how_to_cancel")

PLACEHOLDERS: dict[SmsEvent, tuple[str, ...]] = {
    SmsEvent.BOOKING_MADE: _BOOKING,
    SmsEvent.BOOKING_CANCELLED: _BOOKING,
    SmsEvent.BOOKING_RESEND: _BOOKING,
    SmsEvent.REMINDER: _BOOKING,
    SmsEvent.CALLBACK_SCHEDULED: ("window",),
    SmsEvent.CALLBACK_MISSED: ("time", "line"),
    SmsEvent.WORKORDER_FILED: ("number",),
}

DEFAULT_TEXTS: dict[SmsEvent, str] = {
    SmsEvent.BOOKING_MADE: (
        "【北京114】您已预约{hospital}{department}，就诊时间{day} {time}，识别码{code}。"
        "如需取消请于{cancel_by}前{how_to_cancel}。"
    ),
    SmsEvent.BOOKING_CANCELLED: (
        "【北京114】您{day} {time}在{hospital}{department}的预约（识别码{code}）已取消。"
    ),
    SmsEvent.BOOKING_RESEND: (
        "【北京114】您的预约：{hospital}{department}，{day} {time}，识别码{code}。"
        "如需取消请于{cancel_by}前{how_to_cancel}。"
    ),
    SmsEvent.REMINDER: (
        "【北京114】提醒：您预约了明天{day} {time}在{hospital}{department}就诊，识别码{code}。"
        "如不能前往，请于{cancel_by}前{how_to_cancel}，以免记为爽约。"
    ),
    SmsEvent.CALLBACK_SCHEDULED: "【北京114】我们将在{window}给您回电，请保持电话畅通。",
    SmsEvent.CALLBACK_MISSED: "【北京114】我们于{time}给您回电未能接通，如仍需帮助请拨打{line}。",
    SmsEvent.WORKORDER_FILED: "【北京114】您反映的问题已登记，工单号{number}，可凭此号查询办理进度。",
}

HOW_TO_CANCEL = "拨打114按2，或在网上预约平台取消"


class TemplateInvalid(CallCenterError):
    http_status = 422


def placeholders_in(text: str) -> list[str]:
    """The ``{name}`` fields of ``text``; ``TemplateInvalid`` for a malformed one."""
    try:
        parsed = [
            (name, spec, conv)
            for _, name, spec, conv in string.Formatter().parse(text)
            if name is not None
        ]
    except ValueError as exc:
        raise TemplateInvalid(f"短信模板格式有误：{exc}", code="sms-template-malformed") from None
    if any(spec or conv or not name.isidentifier() for name, spec, conv in parsed):
        raise TemplateInvalid("占位符只能写作{名称}", code="sms-template-malformed")
    return [name for name, _, _ in parsed]


def check_template(event: SmsEvent, text: str) -> str:
    text = text.strip()
    if not text or len(text) > MAX_TEXT:
        raise TemplateInvalid(f"短信模板须为1到{MAX_TEXT}个字", code="sms-template-length")
    unknown = sorted(set(placeholders_in(text)) - set(PLACEHOLDERS[event]))
    if unknown:
        allowed = "、".join("{" + p + "}" for p in PLACEHOLDERS[event])
        raise TemplateInvalid(
            f"未知的占位符：{'、'.join(unknown)}；此类短信可用：{allowed}",
            code="sms-template-placeholder",
        )
    return text


def current_texts(session: Session) -> dict[SmsEvent, str]:
    """Every event's text in force: the administrator's, else the built-in one."""
    saved = {row.event: row.text for row in session.scalars(select(SmsTemplate))}
    return {event: saved.get(event.value, default) for event, default in DEFAULT_TEXTS.items()}


def save_template(session: Session, event: SmsEvent, text: str, actor: str, now: datetime) -> str:
    checked = check_template(event, text)
    session.execute(
        insert(SmsTemplate)
        .values(event=event.value, text=checked, updated_by=actor, updated_at=now)
        .on_conflict_do_update(
            index_elements=[SmsTemplate.event],
            set_={"text": checked, "updated_by": actor, "updated_at": now},
        )
    )
    return checked


def reset_template(session: Session, event: SmsEvent) -> None:
    """Back to the built-in text."""
    session.execute(delete(SmsTemplate).where(SmsTemplate.event == event.value))


def render(text: str, values: Mapping[str, str]) -> str:
    """The message; a placeholder without a value (an old row, a text saved for another
    event) stays visible rather than failing the message."""
    return text.format_map(_Missing(values))


class _Missing(dict[str, str]):
    def __init__(self, values: Mapping[str, str]) -> None:
        super().__init__(values)

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"
