"""Administration: users (create, unlock, reset password, deactivate), skills and queue
settings; and the audit log for auditors. Every change is audited. Agents and their phones:
``admin_agents``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from agent_desk.api.admin_approvals import ApprovalOut, approval_out
from agent_desk.auth import accounts, approvals
from agent_desk.auth.accounts import AccountChanges, AccountDraft
from agent_desk.auth.audit import audit_log
from agent_desk.auth.enrolment import LINK_HOURS, link_path
from agent_desk.deps import AdminUser, AuditUser, StateDep
from agent_desk.errors import error_responses
from backend.acd.skill_changes import announce_skills_changed
from backend.db import transaction
from backend.models.users import Role, User
from backend.telephony import skills

router = APIRouter(tags=["系统管理"], responses=error_responses(400, 401, 403, 404, 409, 422))


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
    # A skill's code, or "" for no overflow (a code is letters, digits, "_" or "-").
    overflow_skill: str | None = Field(default=None, max_length=32, pattern=r"^[A-Za-z0-9_-]*$")
    overflow_after_seconds: int | None = Field(default=None, ge=0, le=3600)
    max_wait_seconds: int | None = Field(default=None, ge=10, le=7200)


class AuditOut(BaseModel):
    at: str
    actor: str
    action: str
    target: str
    source_ip: str


def user_out(user: User, now: datetime) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        team=user.team,
        active=user.active,
        locked=bool(user.locked_until and user.locked_until > now),
        must_change_password=user.must_change_password,
        has_totp=bool(user.totp_secret_enc),
    )


@router.get("/api/admin/users", summary="用户列表")
def list_users(state: StateDep, user: AdminUser) -> list[UserOut]:
    now = datetime.now(state.tz)
    with state.session_factory() as db:
        return [user_out(u, now) for u in accounts.list_accounts(db)]


@router.post(
    "/api/admin/users",
    status_code=201,
    summary="新建用户（初始密码须在首次登录时修改；管理员、审计员须另一位管理员审批）",
)
def create_user(
    body: UserCreate, state: StateDep, user: AdminUser, response: Response
) -> UserOut | ApprovalOut:
    draft = AccountDraft(**body.model_dump())
    with transaction(state.session_factory) as db:
        if approvals.needs_approval(draft.role):
            response.status_code = 202
            return approval_out(
                approvals.request_create(db, draft, user.actor, user.session.user_id)
            )
        created = accounts.create_account(db, draft, user.actor)
        return user_out(created, datetime.now(state.tz))


@router.patch("/api/admin/users/{user_id}", summary="启用/停用、解锁、重置密码或动态口令")
def update_user(
    user_id: int, body: UserUpdate, state: StateDep, user: AdminUser, response: Response
) -> UserOut | ApprovalOut:
    changes = AccountChanges(**body.model_dump())
    with transaction(state.session_factory) as db:
        target = db.get(User, user_id)
        resets = changes.reset_password is not None or changes.reset_totp
        if target is not None and resets and approvals.needs_approval(target.role):
            response.status_code = 202
            request = approvals.request_reset(db, target, changes, user.actor, user.session.user_id)
            return approval_out(request)
        updated = accounts.update_account(db, user_id, changes, user.actor, user.session.user_id)
        if changes.ends_sessions():
            state.auth.sessions.revoke_user(updated.id)
        return user_out(updated, datetime.now(state.tz))


class TotpLinkOut(BaseModel):
    url: str  # the sign-in page with the one-time token: hand it to the user in person
    valid_hours: int


@router.post(
    "/api/admin/users/{user_id}/totp-link", status_code=201, summary="签发动态口令绑定链接"
)
def issue_totp_link(user_id: int, state: StateDep, user: AdminUser) -> TotpLinkOut:
    with transaction(state.session_factory) as db:
        target = accounts.check_totp_link(db, user_id, user.actor)
        token = state.auth.links.issue(target.id)
    return TotpLinkOut(url=link_path(token), valid_hours=LINK_HOURS)


@router.get("/api/admin/skills", summary="技能组与队列设置")
def list_skills(state: StateDep, user: AdminUser) -> list[SkillOut]:
    with state.session_factory() as db:
        return [SkillOut.model_validate(s, from_attributes=True) for s in skills.list_skills(db)]


@router.patch("/api/admin/skills/{code}", summary="修改队列设置")
def update_skill(code: str, body: SkillUpdate, state: StateDep, user: AdminUser) -> SkillOut:
    # overflow_skill: "" (or null) clears the overflow; absent leaves it as it is.
    changes = body.model_dump(exclude_unset=True)
    changes = {k: v for k, v in changes.items() if v is not None or k == "overflow_skill"}
    with transaction(state.session_factory) as db:
        skill = skills.update_skill(db, code, changes, user.actor)
        saved = SkillOut.model_validate(skill, from_attributes=True)
    announce_skills_changed(state.redis, state.prefix, code)  # after the commit
    return saved


@router.get("/api/audit", summary="审计日志（审计员、管理员）")
def get_audit_log(
    state: StateDep,
    user: AuditUser,
    actor: Annotated[str, Query(max_length=64)] = "",
    action: Annotated[str, Query(max_length=64)] = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[AuditOut]:
    with state.session_factory() as db:
        records = audit_log(db, actor=actor, action=action, limit=limit)
    return [
        AuditOut(
            at=r.at.astimezone(state.tz).strftime("%Y-%m-%d %H:%M:%S"),
            actor=r.actor,
            action=r.action,
            target=r.target,
            source_ip=r.source_ip,
        )
        for r in records
    ]
