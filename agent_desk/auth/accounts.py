"""Desk accounts as the administrator manages them: create (the initial password must be
changed at first login), activate or deactivate, unlock, reset the password or the second
factor, move to a team. Each function works in the caller's session, so the change and its
audit record commit together; refusals carry stable codes (``username-taken``,
``cannot-deactivate-self``, the password rules' own).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent_desk.auth.audit import add_audit
from agent_desk.auth.password_history import remember
from agent_desk.auth.permissions import needs_second_factor
from backend.audit import Actor
from backend.errors import Conflict, NotFound, Refused
from backend.models.base import utcnow
from backend.models.users import Role, User
from backend.passwords import WeakPassword, check_complexity, hash_password


@dataclass(frozen=True)
class AccountDraft:
    username: str
    display_name: str
    role: Role
    team: str
    password: str  # initial: must be changed at first login


@dataclass(frozen=True)
class AccountChanges:
    active: bool | None = None
    unlock: bool = False
    reset_password: str | None = None
    reset_totp: bool = False
    team: str | None = None

    def ends_sessions(self) -> bool:
        """Whether the account's open sessions must end (it lost its access or credentials)."""
        return self.active is False or self.reset_password is not None or self.reset_totp


def list_accounts(db: Session) -> list[User]:
    return list(db.scalars(select(User).order_by(User.username)))


def create_account(db: Session, draft: AccountDraft, actor: Actor) -> User:
    check_complexity(draft.password, draft.username)
    if db.scalar(select(User.id).where(User.username == draft.username)) is not None:
        raise Conflict(f"用户名 {draft.username} 已存在", code="username-taken")
    user = User(
        username=draft.username,
        display_name=draft.display_name,
        role=draft.role,
        team=draft.team,
        password_hash=hash_password(draft.password),
        must_change_password=True,
        failed_logins=0,
        active=True,
    )
    db.add(user)
    db.flush()
    add_audit(db, actor.username, "admin.user_create", target=f"user:{user.id}",
              source_ip=actor.source_ip, details={"role": draft.role.value})  # fmt: skip
    return user


def update_account(
    db: Session, user_id: int, changes: AccountChanges, actor: Actor, actor_id: int
) -> User:
    """``actor_id``: the administrator's own user id (who may not deactivate themselves)."""
    user = db.get(User, user_id, with_for_update=True)
    if user is None:
        raise NotFound("没有这个用户")
    done = _apply(db, user, changes)
    if user.id == actor_id and changes.active is False:
        raise Refused("不能停用自己的账户", code="cannot-deactivate-self")
    add_audit(db, actor.username, "admin.user_update", target=f"user:{user.id}",
              source_ip=actor.source_ip, details=done)  # fmt: skip
    return user


def _apply(db: Session, user: User, changes: AccountChanges) -> dict[str, object]:
    """Apply ``changes``; what was changed, for the audit record (never a password)."""
    done: dict[str, object] = {}
    if changes.active is not None:
        user.active = done["active"] = changes.active
    if changes.unlock:
        user.locked_until, user.failed_logins = None, 0
        done["unlock"] = True
    if changes.reset_password is not None:
        check_complexity(changes.reset_password, user.username)
        remember(db, user, utcnow())
        user.password_hash = hash_password(changes.reset_password)
        user.must_change_password = True
        done["reset_password"] = True
    if changes.reset_totp:
        user.totp_secret_enc = None
        done["reset_totp"] = True
    if changes.team is not None:
        user.team = done["team"] = changes.team
    return done


def create_first_admin(db: Session, username: str, display_name: str, actor: Actor) -> str:
    """The first administrator, made from the server's shell (``callcenter create-admin``);
    returns the one-time initial password. Refused once an active administrator exists:
    later administrators are made on the admin page, where a second one approves."""
    admins = select(User.id).where(User.role == Role.ADMIN, User.active.is_(True))
    if db.scalar(admins.limit(1).with_for_update()) is not None:
        raise Refused(
            "an administrator exists: add administrators on the admin page", code="admin-exists"
        )
    password = initial_password(username)
    create_account(db, AccountDraft(username, display_name, Role.ADMIN, "", password), actor)
    return password


def initial_password(username: str) -> str:
    """A random password that meets the rules (to be changed at first login)."""
    while True:
        password = secrets.token_urlsafe(15)
        try:
            check_complexity(password, username)
        except WeakPassword:
            continue
        return password


def check_totp_link(db: Session, user_id: int, actor: Actor) -> User:
    """The user a TOTP enrolment link may be issued for (audited): one whose role signs in with
    a code and who has none bound (an administrator resets a lost one first)."""
    user = db.get(User, user_id)
    if user is None:
        raise NotFound("没有这个用户")
    if not needs_second_factor(user.role):
        raise Refused("该角色无需动态口令", code="totp-not-needed")
    if user.totp_secret_enc:
        raise Conflict("该用户已绑定动态口令，请先重置", code="totp-already-bound")
    add_audit(db, actor.username, "admin.totp_link_issued", target=f"user:{user.id}",
              source_ip=actor.source_ip)  # fmt: skip
    return user
