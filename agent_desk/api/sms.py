"""Text messages at the desk: an agent resends a caller's booking text or records that the
caller wants no reminders (or wants them again); an administrator edits the texts of the
messages (``backend/notifications``, ``docs/sms-notifications.md``). Numbers are shown and
logged only masked; the texts themselves hold no personal data."""

# No ``from __future__ import annotations``: FastAPI evaluates these annotations at runtime.

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from agent_desk.deps import AdminUser, BookingDeskUser, SessionDep, StateDep
from agent_desk.errors import error_responses
from backend.audit import record_audit
from backend.booking.context import BookingContext
from backend.errors import NotFound
from backend.notifications.requests import SmsRequests, SmsResendLimits
from backend.notifications.texts import (
    DEFAULT_TEXTS,
    PLACEHOLDERS,
    current_texts,
    reset_template,
    save_template,
)
from backend.personal_data import mask_phone
from backend.sms.outbox import SmsEvent

router = APIRouter(tags=["短信"], responses=error_responses(400, 401, 403, 404, 422, 429))


async def sms_requests(state: StateDep) -> SmsRequests:
    ctx: BookingContext = state.phone_booking.ctx
    return SmsRequests(state.session_factory, ctx, SmsResendLimits.of(state.settings))


Requests = Annotated[SmsRequests, Depends(sms_requests)]


class ResendBody(BaseModel):
    id_number: str = Field(min_length=15, max_length=18)  # the caller's proof, as for a cancel


class OptOutBody(BaseModel):
    phone: str = Field(min_length=7, max_length=20)
    opted_out: bool = True  # False: reminders again


class OptOutPublic(BaseModel):
    phone: str  # masked
    opted_out: bool


@router.post("/api/desk/booking/bookings/{code}/sms", status_code=202,
             summary="重发预约短信（限频）")  # fmt: skip
def resend(
    code: str, body: ResendBody, requests: Requests, caller: BookingDeskUser
) -> dict[str, str]:
    requests.resend_booking(body.id_number, code)
    return {"status": "queued"}


@router.post("/api/desk/sms/opt-out", summary="来电人退订（或恢复）就诊提醒短信")
def opt_out(body: OptOutBody, requests: Requests, caller: BookingDeskUser) -> OptOutPublic:
    if body.opted_out:
        requests.opt_out(body.phone, via=f"agent:{caller.username}")
    else:
        requests.opt_in(body.phone)
    return OptOutPublic(phone=mask_phone(body.phone), opted_out=requests.is_opted_out(body.phone))


class SmsTemplatePublic(BaseModel):
    event: str
    text: str
    default: str
    placeholders: list[str]
    overridden: bool


class SmsTemplateUpdate(BaseModel):
    text: str | None = Field(default=None, min_length=1, max_length=500)  # None: built-in


def _templates(session: SessionDep) -> list[SmsTemplatePublic]:
    texts = current_texts(session)
    return [
        SmsTemplatePublic(
            event=event.value,
            text=texts[event],
            default=default,
            placeholders=list(PLACEHOLDERS[event]),
            overridden=texts[event] != default,
        )
        for event, default in DEFAULT_TEXTS.items()
    ]


@router.get("/api/admin/sms-templates", summary="短信模板")
def templates(session: SessionDep, who: AdminUser) -> list[SmsTemplatePublic]:
    return _templates(session)


@router.put("/api/admin/sms-templates/{event}", summary="修改短信模板（占位符须为该类短信可用的）")
def edit_template(
    event: str, body: SmsTemplateUpdate, session: SessionDep, who: AdminUser
) -> SmsTemplatePublic:
    try:
        kind = SmsEvent(event)
    except ValueError:
        raise NotFound("没有这类短信", code="no-such-sms-event") from None
    now = datetime.now(UTC)
    before = current_texts(session)[kind]
    if body.text is None:
        reset_template(session, kind)
    else:
        save_template(session, kind, body.text, who.username, now)
    after = current_texts(session)[kind]
    record_audit(session, who.actor, "admin.sms_template_update", f"sms-template:{event}", now,
                 {"before": before, "after": after})  # fmt: skip
    session.commit()
    return next(t for t in _templates(session) if t.event == event)
