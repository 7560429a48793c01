"""Password expiry and history: a password older than ``max_age_days`` must be changed at the
next sign-in, and a new password may be none of the last ``history`` ones (checked against
their Argon2 hashes, so no password is kept in a form that could be read back).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from backend.errors import Refused
from backend.models.users import PasswordHistory, User
from backend.passwords import verify_password


class PasswordReused(Refused):
    code = "password-reused"


@dataclass(frozen=True)
class PasswordRules:
    max_age_days: int = 90  # 0: passwords never expire
    history: int = 5  # earlier passwords a new one may not repeat

    def expired(self, user: User, now: datetime) -> bool:
        if self.max_age_days <= 0:
            return False
        since = user.password_changed_at or user.created_at
        return now - since > timedelta(days=self.max_age_days)


def remember(db: Session, user: User, now: datetime) -> None:
    """Keep the user's current hash as an earlier password (before it is replaced)."""
    db.add(PasswordHistory(user_id=user.id, password_hash=user.password_hash, replaced_at=now))


def check_not_reused(db: Session, user: User, new: str, rules: PasswordRules) -> None:
    """Refuse ``new`` when it is the current password or one of the last ``history``."""
    earlier = db.scalars(
        select(PasswordHistory.password_hash)
        .where(PasswordHistory.user_id == user.id)
        .order_by(PasswordHistory.replaced_at.desc(), PasswordHistory.id.desc())
        .limit(rules.history)
    ).all()
    if any(verify_password(h, new) for h in [user.password_hash, *earlier]):
        raise PasswordReused(f"新密码不能与最近{rules.history}次使用过的密码相同")


def prune(db: Session, user: User, rules: PasswordRules) -> None:
    """Forget what lies beyond the history kept."""
    kept = (
        select(PasswordHistory.id)
        .where(PasswordHistory.user_id == user.id)
        .order_by(PasswordHistory.replaced_at.desc(), PasswordHistory.id.desc())
        .limit(rules.history)
    )
    db.execute(
        delete(PasswordHistory).where(
            PasswordHistory.user_id == user.id, PasswordHistory.id.not_in(kept)
        )
    )
