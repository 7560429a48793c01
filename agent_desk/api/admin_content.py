"""Administration of what callers and citizens are told: hospitals' details and booking
notes, announcements (platform-wide or per hospital) and the IVR's prompts. Every change is
audited."""

# No ``from __future__ import annotations``: FastAPI evaluates these annotations at runtime.

import asyncio
from datetime import UTC, datetime
from functools import partial

from fastapi import APIRouter
from pydantic import BaseModel, Field

from agent_desk.auth.audit import audit_now
from agent_desk.deps import AdminUser, SessionDep, StateDep
from agent_desk.errors import error_responses
from backend.booking.notices import (
    AnnouncementDraft,
    list_announcements,
    list_hospitals,
    publish_announcement,
    update_hospital,
    withdraw_announcement,
)
from backend.flows.loader import load_line_flows
from backend.flows.prompt_texts import (
    PromptRow,
    find_row,
    load_overrides,
    overrides_path,
    prompt_rows,
    save_override,
)
from backend.flows.schema import PromptText
from backend.settings import Settings
from backend.speech.tts import TtsRenderer

router = APIRouter(tags=["系统管理"], responses=error_responses(400, 401, 403, 404, 409, 422))


class HospitalBase(BaseModel):
    name: str = Field(min_length=1, max_length=128)
    address: str = Field(default="", max_length=256)
    phone: str = Field(default="", max_length=32)
    booking_notes: str = Field(default="", max_length=2000)
    active: bool = True


class HospitalUpdate(BaseModel):
    """Only the fields sent change."""

    name: str | None = Field(default=None, min_length=1, max_length=128)
    address: str | None = Field(default=None, max_length=256)
    phone: str | None = Field(default=None, max_length=32)
    booking_notes: str | None = Field(default=None, max_length=2000)
    active: bool | None = None


class HospitalPublic(HospitalBase):
    id: int
    code: str
    level: str
    district: str


class AnnouncementBase(BaseModel):
    hospital_id: int | None = Field(default=None, ge=1, le=2**31 - 1)  # None: platform-wide
    title: str = Field(min_length=1, max_length=128)
    body: str = Field(min_length=1, max_length=4000)
    expires_at: datetime | None = None


class AnnouncementCreate(AnnouncementBase):
    pass


class AnnouncementPublic(AnnouncementBase):
    id: int
    published_at: datetime


@router.get("/api/admin/hospitals", summary="医院列表")
def hospitals(session: SessionDep, who: AdminUser) -> list[HospitalPublic]:
    return [HospitalPublic.model_validate(h, from_attributes=True) for h in list_hospitals(session)]


@router.patch("/api/admin/hospitals/{hospital_id}", summary="修改医院信息与预约须知")
def edit_hospital(
    hospital_id: int, body: HospitalUpdate, session: SessionDep, who: AdminUser
) -> HospitalPublic:
    changes = body.model_dump(exclude_none=True)
    hospital = update_hospital(session, hospital_id, changes, who.actor, datetime.now(UTC))
    session.commit()
    return HospitalPublic.model_validate(hospital, from_attributes=True)


@router.get("/api/admin/announcements", summary="公告列表（含已过期）")
def announcements(session: SessionDep, who: AdminUser) -> list[AnnouncementPublic]:
    return [
        AnnouncementPublic.model_validate(a, from_attributes=True)
        for a in list_announcements(session)
    ]


@router.post("/api/admin/announcements", status_code=201, summary="发布公告")
def publish(body: AnnouncementCreate, session: SessionDep, who: AdminUser) -> AnnouncementPublic:
    draft = AnnouncementDraft(**body.model_dump())
    notice = publish_announcement(session, draft, who.actor, datetime.now(UTC))
    session.commit()
    return AnnouncementPublic.model_validate(notice, from_attributes=True)


@router.post("/api/admin/announcements/{announcement_id}/withdraw", summary="撤下公告")
def withdraw(announcement_id: int, session: SessionDep, who: AdminUser) -> AnnouncementPublic:
    notice = withdraw_announcement(session, announcement_id, who.actor, datetime.now(UTC))
    session.commit()
    return AnnouncementPublic.model_validate(notice, from_attributes=True)


class PromptPublic(BaseModel):
    id: str
    line: str
    default: str
    text: str
    overridden: bool
    sounds: list[str] = Field(default_factory=list)  # rendered on save (normal, elderly)


class PromptUpdate(BaseModel):
    text: str | None = Field(default=None, min_length=1, max_length=500)  # None: back to YAML


def _prompt_out(row: PromptRow, sounds: list[str] | None = None) -> PromptPublic:
    return PromptPublic(
        id=row.id,
        line=row.line,
        default=row.default,
        text=row.text,
        overridden=row.overridden,
        sounds=sounds or [],
    )


def prompt_list(settings: Settings) -> list[PromptRow]:
    flows = load_line_flows().values()
    return prompt_rows(flows, load_overrides(overrides_path(settings)))


def edit_prompt(
    settings: Settings, prompt_id: str, text: str | None
) -> tuple[PromptRow, PromptRow, list[str]]:
    """Save the text (None: back to the flow's own) and render it at once in both voices
    (normal, elderly); returns the prompt before and after, and the sound files."""
    before = find_row(prompt_list(settings), prompt_id)  # NotFound for unknown prompts
    save_override(overrides_path(settings), prompt_id, text)
    after = find_row(prompt_list(settings), prompt_id)
    renderer = TtsRenderer(settings)
    spoken = PromptText(prompt_id, after.text)
    sounds = [renderer.render(spoken, elderly=elderly) for elderly in (False, True)]
    return before, after, sounds


@router.get("/api/admin/prompts", summary="语音导航提示词")
def list_prompts(state: StateDep, who: AdminUser) -> list[PromptPublic]:
    return [_prompt_out(r) for r in prompt_list(state.settings)]


@router.put("/api/admin/prompts/{flow}/{prompt}", summary="修改提示词（保存后立即重新合成语音）")
async def update_prompt(
    flow: str, prompt: str, body: PromptUpdate, state: StateDep, who: AdminUser
) -> PromptPublic:
    prompt_id = f"{flow}/{prompt}"
    before, after, sounds = await asyncio.to_thread(
        edit_prompt, state.settings, prompt_id, body.text
    )
    changed = {"before": before.text, "after": after.text}
    target = f"prompt:{prompt_id}"
    audit = partial(audit_now, target=target, source_ip=who.ip, details=changed)
    await asyncio.to_thread(audit, state.session_factory, who.username, "admin.prompt_update")
    return _prompt_out(after, sounds)
