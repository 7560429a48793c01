"""The second administrator's approval (``agent_desk.auth.approvals``): what waits for it, and
approving. Requests are made by the user routes of ``admin`` (202 with the request)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from agent_desk.auth import approvals
from agent_desk.deps import AdminUser, StateDep
from agent_desk.errors import error_responses
from backend.db import transaction
from backend.models.users import AccountApproval, ApprovalKind, Role

router = APIRouter(tags=["系统管理"], responses=error_responses(401, 403, 404, 409, 422))


class ApprovalOut(BaseModel):
    approval_id: int
    status: str  # "pending": another administrator must approve
    kind: ApprovalKind
    username: str
    role: Role
    requested_by_id: int


def approval_out(approval: AccountApproval) -> ApprovalOut:
    return ApprovalOut(
        approval_id=approval.id,
        status="pending" if approval.approved_at is None else "approved",
        kind=approval.kind,
        username=approval.username,
        role=approval.role,
        requested_by_id=approval.requested_by_id,
    )


@router.get("/api/admin/approvals", summary="待另一位管理员审批的请求")
def list_approvals(state: StateDep, user: AdminUser) -> list[ApprovalOut]:
    with state.session_factory() as db:
        return [approval_out(a) for a in approvals.pending(db)]


@router.post("/api/admin/approvals/{approval_id}/approve", summary="审批（须另一位管理员）")
def approve(approval_id: int, state: StateDep, user: AdminUser) -> ApprovalOut:
    now = datetime.now(state.tz)
    try:
        with transaction(state.session_factory) as db:
            approval = approvals.approve(db, approval_id, user.actor, user.session.user_id, now)
            done = approval_out(approval)
    except approvals.SelfApproval:
        approvals.audit_self_approval(state.session_factory, approval_id, user.actor)
        raise
    if done.kind is not ApprovalKind.CREATE:
        state.auth.sessions.revoke_user(approval.target_user_id or 0)
    return done
