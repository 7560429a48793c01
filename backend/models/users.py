"""People who log in: agents, team leaders, administrators, auditors, hospital operators."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, CreatedAt


class Role(enum.StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    AUDITOR = "auditor"
    HOSPITAL = "hospital"
    MANAGER = "manager"  # health commission managers: read-only statistics
    # A handling office's (承办单位) account: the office is the user's ``team``, matched
    # against the department work orders are dispatched to (docs/workorder-departments.md).
    DEPARTMENT = "department"


class User(CreatedAt, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=16))
    password_hash: Mapped[str] = mapped_column(String(255))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    # The authenticator's secret, encrypted with the personal-data cipher (a copy of the
    # users table is no copy of everyone's second factor); rotated by `callcenter keys rotate`.
    totp_secret_enc: Mapped[str | None] = mapped_column(String(255), default=None)
    password_changed_at: Mapped[datetime | None] = mapped_column(default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    team: Mapped[str] = mapped_column(String(64), default="")


class ApprovalKind(enum.StrEnum):
    CREATE = "create"  # a new administrator or auditor
    RESET_PASSWORD = "reset_password"
    RESET_TOTP = "reset_totp"


class AccountApproval(CreatedAt, Base):
    """A change to an administrator's or auditor's account one administrator asked for, made
    only when a second one approves (the four-eyes rule). A new password is kept hashed."""

    __tablename__ = "account_approvals"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ApprovalKind] = mapped_column(Enum(ApprovalKind, native_enum=False, length=16))
    target_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    username: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(64), default="")
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=16))
    team: Mapped[str] = mapped_column(String(64), default="")
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    approved_at: Mapped[datetime | None] = mapped_column(default=None)


class PasswordHistory(Base):
    """The hashes of a user's earlier passwords, for the rule against reusing them."""

    __tablename__ = "password_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    replaced_at: Mapped[datetime] = mapped_column()
