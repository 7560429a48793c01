"""The four-eyes rule for the accounts that can do most: creating an administrator or an
auditor, or resetting one's password or second factor, is asked for by one administrator and
made only when another approves. Each step is audited; an administrator approving their own
request is refused and audited.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agent_desk.auth.accounts import AccountChanges, AccountDraft
from agent_desk.auth.audit import add_audit, audit_now
from agent_desk.auth.errors import Forbidden
from agent_desk.auth.password_history import remember
from backend.audit import Actor
from backend.errors import Conflict, NotFound, Refused
from backend.models.base import utcnow
from backend.models.users import AccountApproval, ApprovalKind, Role, User
from backend.passwords import check_complexity, hash_password

NEEDS_APPROVAL = frozenset({Role.ADMIN, Role.AUDITOR})


def needs_approval(role: Role) -> bool:
    return role in NEEDS_APPROVAL


def request_create(
    db: Session, draft: AccountDraft, actor: Actor, actor_id: int
) -> AccountApproval:
    check_complexity(draft.password, draft.username)
    if db.scalar(select(User.id).where(User.username == draft.username)) is not None:
        raise Conflict(f"用户名 {draft.username} 已存在", code="username-taken")
    approval = AccountApproval(
        kind=ApprovalKind.CREATE, username=draft.username, display_name=draft.display_name,
        role=draft.role, team=draft.team, password_hash=hash_password(draft.password),
        requested_by_id=actor_id,
    )  # fmt: skip
    return _requested(db, approval, actor)


def request_reset(
    db: Session, target: User, changes: AccountChanges, actor: Actor, actor_id: int
) -> AccountApproval:
    """A reset of an administrator's or auditor's password or second factor, on its own."""
    others = changes.active is not None or changes.unlock or changes.team is not None
    if others or (changes.reset_password is not None) == changes.reset_totp:
        raise Refused("管理员、审计员的重置须单独提交（密码或动态口令之一）", code="reset-alone")
    password_hash = ""
    if changes.reset_password is not None:
        check_complexity(changes.reset_password, target.username)
        password_hash = hash_password(changes.reset_password)
    kind = ApprovalKind.RESET_TOTP if changes.reset_totp else ApprovalKind.RESET_PASSWORD
    approval = AccountApproval(
        kind=kind, target_user_id=target.id, username=target.username, role=target.role,
        display_name=target.display_name, team=target.team, password_hash=password_hash,
        requested_by_id=actor_id,
    )  # fmt: skip
    return _requested(db, approval, actor)


def _requested(db: Session, approval: AccountApproval, actor: Actor) -> AccountApproval:
    db.add(approval)
    db.flush()
    add_audit(db, actor.username, "admin.approval_requested", target=f"approval:{approval.id}",
              source_ip=actor.source_ip,
              details={"kind": approval.kind.value, "username": approval.username,
                       "role": approval.role.value})  # fmt: skip
    return approval


def pending(db: Session) -> list[AccountApproval]:
    query = select(AccountApproval).where(AccountApproval.approved_at.is_(None))
    return list(db.scalars(query.order_by(AccountApproval.id)))


class SelfApproval(Forbidden):
    code = "approval-by-requester"


def approve(
    db: Session, approval_id: int, actor: Actor, actor_id: int | None, now: datetime
) -> AccountApproval:
    """Make the requested change; refused for the requester and for a decided request.
    ``actor_id``: the approving administrator (None: the server's shell)."""
    approval = db.get(AccountApproval, approval_id, with_for_update=True)
    if approval is None:
        raise NotFound("没有这个待审批请求")
    if approval.approved_at is not None:
        raise Conflict("该请求已审批", code="approval-decided")
    if approval.requested_by_id == actor_id:
        raise SelfApproval("须由另一位管理员审批")
    approval.approved_by_id, approval.approved_at = actor_id, now
    user = _apply(db, approval)
    approval.target_user_id = user.id
    add_audit(db, actor.username, "admin.approval_granted", target=f"approval:{approval.id}",
              source_ip=actor.source_ip,
              details={"kind": approval.kind.value, "user": user.id})  # fmt: skip
    return approval


def approve_from_shell(
    db: Session, approval_id: int, actor: Actor, now: datetime
) -> AccountApproval:
    """The server's shell as the second administrator, only while the centre has fewer than
    two (``callcenter approve``): the first administrator's request for the second could
    otherwise never be approved. From then on only an administrator approves."""
    admins = select(User.id).where(User.role == Role.ADMIN, User.active.is_(True))
    if len(db.scalars(admins.with_for_update()).all()) >= 2:
        raise Refused(
            "two administrators exist: another administrator approves on the admin page",
            code="administrators-exist",
        )
    return approve(db, approval_id, actor, None, now)  # no user: never the requester


def audit_self_approval(factory: sessionmaker[Session], approval_id: int, actor: Actor) -> None:
    audit_now(factory, actor.username, "admin.approval_refused", target=f"approval:{approval_id}",
              source_ip=actor.source_ip, details={"reason": "requester"})  # fmt: skip


def _apply(db: Session, approval: AccountApproval) -> User:
    if approval.kind is ApprovalKind.CREATE:
        if db.scalar(select(User.id).where(User.username == approval.username)) is not None:
            raise Conflict(f"用户名 {approval.username} 已存在", code="username-taken")
        created = User(
            username=approval.username, display_name=approval.display_name, role=approval.role,
            team=approval.team, password_hash=approval.password_hash,
            must_change_password=True, failed_logins=0, active=True,
        )  # fmt: skip
        db.add(created)
        db.flush()
        return created
    user = db.get(User, approval.target_user_id, with_for_update=True)
    if user is None:
        raise NotFound("没有这个用户")
    if approval.kind is ApprovalKind.RESET_PASSWORD:
        remember(db, user, utcnow())
        user.password_hash, user.must_change_password = approval.password_hash, True
    else:
        user.totp_secret_enc = None
    return user
