"""Administration: users (create, unlock, reset password, deactivate), skills and queue
settings; and the audit log for auditors. Every change is audited. Agents and their phones:
``admin_agents``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from agent_desk.api.agent import ERRORS
from agent_desk.auth.audit import add_audit
from agent_desk.auth.guard import Caller, DeskDep, require
from agent_desk.auth.permissions import Permission
from backend.db import transaction
from backend.errors import Conflict, NotFound, Refused
from backend.models.agents import Skill
from backend.models.audit import AuditRecord
from backend.models.users import Role, User
from backend.passwords import check_complexity, hash_password

SHANGHAI = ZoneInfo("Asia/Shanghai")
AdminCaller = Annotated[Caller, Depends(require(Permission.ADMIN))]
AuditCaller = Annotated[Caller, Depends(require(Permission.AUDIT_LOG))]


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: Role
    team: str
    active: bool
    locked: bool
    must_change_password: bool
    has_totp: bool


class UserCreate(BaseModel):
    username: str = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    display_name: str = Field(min_length=1, max_length=64)
    role: Role
    team: str = Field(default="", max_length=64)
    password: str = Field(min_length=1, max_length=256)  # initial: must be changed at login


class UserUpdate(BaseModel):
    active: bool | None = None
    unlock: bool = False
    reset_password: str | None = Field(default=None, max_length=256)
    reset_totp: bool = False
    team: str | None = Field(default=None, max_length=64)


class SkillOut(BaseModel):
    code: str
    name: str
    line: str
    wrapup_seconds: int
    sl_threshold_seconds: int
    overflow_after_seconds: int
    overflow_skill: str | None
    max_wait_seconds: int


class SkillUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=64)
    wrapup_seconds: int | None = Field(default=None, ge=0, le=3600)
    sl_threshold_seconds: int | None = Field(default=None, ge=1, le=600)
    overflow_after_seconds: int | None = Field(default=None, ge=0, le=3600)
    max_wait_seconds: int | None = Field(default=None, ge=10, le=7200)


class AuditOut(BaseModel):
    at: str
    actor: str
    action: str
    target: str
    source_ip: str


def _user_out(user: User, now: datetime) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        team=user.team,
        active=user.active,
        locked=bool(user.locked_until and user.locked_until > now),
        must_change_password=user.must_change_password,
        has_totp=bool(user.totp_secret),
    )


def build_router() -> APIRouter:
    router = APIRouter(tags=["系统管理"], responses=ERRORS)

    @router.get("/api/admin/users", summary="用户列表")
    def list_users(desk: DeskDep, caller: AdminCaller) -> list[UserOut]:
        now = datetime.now(SHANGHAI)
        with desk.factory() as db:
            return [_user_out(u, now) for u in db.scalars(select(User).order_by(User.username))]

    @router.post(
        "/api/admin/users", status_code=201, summary="新建用户（初始密码须在首次登录时修改）"
    )
    def create_user(body: UserCreate, desk: DeskDep, caller: AdminCaller) -> UserOut:
        check_complexity(body.password, body.username)
        with transaction(desk.factory) as db:
            if db.scalar(select(User.id).where(User.username == body.username)) is not None:
                raise Conflict(f"用户名 {body.username} 已存在", code="username-taken")
            user = User(
                username=body.username,
                display_name=body.display_name,
                role=body.role,
                team=body.team,
                password_hash=hash_password(body.password),
                must_change_password=True,
                failed_logins=0,
                active=True,
            )
            db.add(user)
            db.flush()
            add_audit(db, caller.username, "admin.user_create", target=f"user:{user.id}",
                      source_ip=caller.ip, details={"role": body.role.value})  # fmt: skip
            return _user_out(user, datetime.now(SHANGHAI))

    @router.patch("/api/admin/users/{user_id}", summary="启用/停用、解锁、重置密码或动态口令")
    def update_user(user_id: int, body: UserUpdate, desk: DeskDep, caller: AdminCaller) -> UserOut:
        with transaction(desk.factory) as db:
            user = db.get(User, user_id, with_for_update=True)
            if user is None:
                raise NotFound("没有这个用户")
            changes: dict[str, object] = {}
            if body.active is not None:
                user.active = changes["active"] = body.active
            if body.unlock:
                user.locked_until, user.failed_logins = None, 0
                changes["unlock"] = True
            if body.reset_password is not None:
                check_complexity(body.reset_password, user.username)
                user.password_hash = hash_password(body.reset_password)
                user.must_change_password = True
                changes["reset_password"] = True
            if body.reset_totp:
                user.totp_secret = None
                changes["reset_totp"] = True
            if body.team is not None:
                user.team = changes["team"] = body.team
            if user.id == caller.session.user_id and body.active is False:
                raise Refused("不能停用自己的账户", code="cannot-deactivate-self")
            add_audit(db, caller.username, "admin.user_update", target=f"user:{user.id}",
                      source_ip=caller.ip, details=changes)  # fmt: skip
            if body.active is False or body.reset_password is not None or body.reset_totp:
                desk.auth.sessions.revoke_user(user.id)
            return _user_out(user, datetime.now(SHANGHAI))

    @router.get("/api/admin/skills", summary="技能组与队列设置")
    def list_skills(desk: DeskDep, caller: AdminCaller) -> list[SkillOut]:
        with desk.factory() as db:
            return [
                SkillOut.model_validate(s, from_attributes=True)
                for s in db.scalars(select(Skill).order_by(Skill.code))
            ]

    @router.patch("/api/admin/skills/{code}", summary="修改队列设置")
    def update_skill(code: str, body: SkillUpdate, desk: DeskDep, caller: AdminCaller) -> SkillOut:
        with transaction(desk.factory) as db:
            skill = db.scalar(select(Skill).where(Skill.code == code))
            if skill is None:
                raise NotFound("没有这个技能组")
            changes = body.model_dump(exclude_none=True)
            for name, value in changes.items():
                setattr(skill, name, value)
            add_audit(db, caller.username, "admin.skill_update", target=f"skill:{code}",
                      source_ip=caller.ip, details=changes)  # fmt: skip
            return SkillOut.model_validate(skill, from_attributes=True)

    @router.get("/api/audit", summary="审计日志（审计员、管理员）")
    def audit_log(
        desk: DeskDep,
        caller: AuditCaller,
        actor: Annotated[str, Query(max_length=64)] = "",
        action: Annotated[str, Query(max_length=64)] = "",
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> list[AuditOut]:
        with desk.factory() as db:
            query = select(AuditRecord).order_by(AuditRecord.at.desc(), AuditRecord.id.desc())
            if actor:
                query = query.where(AuditRecord.actor == actor)
            if action:
                query = query.where(AuditRecord.action == action)
            return [
                AuditOut(
                    at=r.at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S"),
                    actor=r.actor,
                    action=r.action,
                    target=r.target,
                    source_ip=r.source_ip,
                )
                for r in db.scalars(query.limit(limit))
            ]

    return router
