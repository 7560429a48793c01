"""Administration of what callers and citizens are told: hospitals' details and booking
notes, and announcements (platform-wide or per hospital). Every change is audited."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import select

from agent_desk.api.agent import ERRORS
from agent_desk.auth.audit import add_audit, audit_now
from agent_desk.auth.guard import DeskDep
from agent_desk.deps import AdminUser as AdminCaller
from agent_desk.desk import Desk
from backend.db import transaction
from backend.errors import NotFound
from backend.models.booking import Announcement, Hospital
from ivr.flows.loader import load_line_flows
from ivr.flows.ports import PromptText
from ivr.flows.prompt_texts import (
    PromptRow,
    find_row,
    load_overrides,
    overrides_path,
    prompt_rows,
    save_override,
)
from ivr.speech.tts import TtsRenderer


class HospitalOut(BaseModel):
    id: int
    code: str
    name: str
    level: str
    district: str
    address: str
    phone: str
    booking_notes: str
    active: bool


class HospitalUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=128)
    address: str | None = Field(default=None, max_length=256)
    phone: str | None = Field(default=None, max_length=32)
    booking_notes: str | None = Field(default=None, max_length=2000)
    active: bool | None = None


class AnnouncementOut(BaseModel):
    id: int
    hospital_id: int | None
    title: str
    body: str
    published_at: datetime
    expires_at: datetime | None


class AnnouncementCreate(BaseModel):
    hospital_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    title: str = Field(min_length=1, max_length=128)
    body: str = Field(min_length=1, max_length=4000)
    expires_at: datetime | None = None


def build_router() -> APIRouter:
    router = APIRouter(tags=["系统管理"], responses=ERRORS)

    @router.get("/api/admin/hospitals", summary="医院列表")
    def list_hospitals(desk: DeskDep, caller: AdminCaller) -> list[HospitalOut]:
        with desk.factory() as db:
            return [
                HospitalOut.model_validate(h, from_attributes=True)
                for h in db.scalars(select(Hospital).order_by(Hospital.name, Hospital.id))
            ]

    @router.patch("/api/admin/hospitals/{hospital_id}", summary="修改医院信息与预约须知")
    def update_hospital(
        hospital_id: int, body: HospitalUpdate, desk: DeskDep, caller: AdminCaller
    ) -> HospitalOut:
        with transaction(desk.factory) as db:
            hospital = db.get(Hospital, hospital_id, with_for_update=True)
            if hospital is None:
                raise NotFound("没有这家医院")
            changes = body.model_dump(exclude_none=True)
            for name, value in changes.items():
                setattr(hospital, name, value)
            add_audit(db, caller.username, "admin.hospital_update", target=f"hospital:{hospital_id}",
                      source_ip=caller.ip, details={"fields": sorted(changes)})  # fmt: skip
            return HospitalOut.model_validate(hospital, from_attributes=True)

    @router.get("/api/admin/announcements", summary="公告列表（含已过期）")
    def list_announcements(desk: DeskDep, caller: AdminCaller) -> list[AnnouncementOut]:
        with desk.factory() as db:
            query = (
                select(Announcement)
                .order_by(Announcement.published_at.desc(), Announcement.id.desc())
                .limit(200)
            )
            return [
                AnnouncementOut.model_validate(a, from_attributes=True) for a in db.scalars(query)
            ]

    @router.post("/api/admin/announcements", status_code=201, summary="发布公告")
    def create_announcement(
        body: AnnouncementCreate, desk: DeskDep, caller: AdminCaller
    ) -> AnnouncementOut:
        with transaction(desk.factory) as db:
            if body.hospital_id is not None and db.get(Hospital, body.hospital_id) is None:
                raise NotFound("没有这家医院")
            notice = Announcement(
                hospital_id=body.hospital_id,
                title=body.title,
                body=body.body,
                published_at=datetime.now(UTC),
                expires_at=body.expires_at,
            )
            db.add(notice)
            db.flush()
            add_audit(db, caller.username, "admin.announcement_create",
                      target=f"announcement:{notice.id}", source_ip=caller.ip)  # fmt: skip
            return AnnouncementOut.model_validate(notice, from_attributes=True)

    @router.post("/api/admin/announcements/{announcement_id}/withdraw", summary="撤下公告")
    def withdraw_announcement(
        announcement_id: int, desk: DeskDep, caller: AdminCaller
    ) -> AnnouncementOut:
        with transaction(desk.factory) as db:
            notice = db.get(Announcement, announcement_id, with_for_update=True)
            if notice is None:
                raise NotFound("没有这条公告")
            notice.expires_at = datetime.now(UTC)
            add_audit(db, caller.username, "admin.announcement_withdraw",
                      target=f"announcement:{notice.id}", source_ip=caller.ip)  # fmt: skip
            return AnnouncementOut.model_validate(notice, from_attributes=True)

    return router


class PromptOut(BaseModel):
    id: str
    line: str
    default: str
    text: str
    overridden: bool
    sounds: list[str] = Field(default_factory=list)  # rendered on save (normal, elderly)


class PromptUpdate(BaseModel):
    text: str | None = Field(default=None, min_length=1, max_length=500)  # None: back to YAML


def _prompt_out(row: PromptRow, sounds: list[str] | None = None) -> PromptOut:
    return PromptOut(
        id=row.id,
        line=row.line,
        default=row.default,
        text=row.text,
        overridden=row.overridden,
        sounds=sounds or [],
    )


def build_prompts_router() -> APIRouter:
    router = APIRouter(tags=["系统管理"], responses=ERRORS)

    def rows(desk: Desk) -> list[PromptRow]:
        flows = load_line_flows().values()
        return prompt_rows(flows, load_overrides(overrides_path(desk.settings)))

    @router.get("/api/admin/prompts", summary="语音导航提示词")
    def list_prompts(desk: DeskDep, caller: AdminCaller) -> list[PromptOut]:
        return [_prompt_out(r) for r in rows(desk)]

    @router.put(
        "/api/admin/prompts/{flow}/{prompt}",
        summary="修改提示词（保存后立即重新合成语音）",
    )
    async def update_prompt(
        flow: str, prompt: str, body: PromptUpdate, desk: DeskDep, caller: AdminCaller
    ) -> PromptOut:
        prompt_id = f"{flow}/{prompt}"

        def save_and_render() -> tuple[PromptRow, list[str]]:
            before = find_row(rows(desk), prompt_id)  # NotFound for unknown prompts
            save_override(overrides_path(desk.settings), prompt_id, body.text)
            after = find_row(rows(desk), prompt_id)
            renderer = TtsRenderer(desk.settings)
            text = PromptText(prompt_id, after.text)
            sounds = [renderer.render(text, elderly=elderly) for elderly in (False, True)]
            audit_now(desk.factory, caller.username, "admin.prompt_update", target=f"prompt:{prompt_id}",
                      source_ip=caller.ip, details={"before": before.text, "after": after.text})  # fmt: skip
            return after, sounds

        row, sounds = await asyncio.to_thread(save_and_render)
        return _prompt_out(row, sounds)

    return router
