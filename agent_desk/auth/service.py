"""Login, second factor, password change and logout — each one audited.

The database holds the account (hash, failure count, lock, TOTP secret); Redis holds the
session. The TOTP secret is kept encrypted with the personal-data cipher, in the database and,
while a first enrolment waits for its code, in the session. A login moves through stages: password → TOTP (administrators) → forced password
change (initial password) → ready; routes accept only ready sessions.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

import pyotp
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agent_desk.auth.audit import add_audit, audit_now
from agent_desk.auth.enrolment import EnrolmentLinks
from agent_desk.auth.errors import AccountLocked, Forbidden, LoginFailed
from agent_desk.auth.password_history import PasswordRules, check_not_reused, prune, remember
from agent_desk.auth.permissions import needs_second_factor
from agent_desk.auth.policy import LockoutPolicy
from agent_desk.auth.sessions import DeskSession, SessionStore, Stage
from agent_desk.auth.throttle import LoginThrottle, LoginThrottled
from agent_desk.auth.totp import UsedSteps, matching_step
from backend.db import transaction
from backend.errors import Conflict, Refused
from backend.localtime import DEFAULT_TIMEZONE, zone
from backend.models.agents import Agent
from backend.models.base import utcnow
from backend.models.users import User
from backend.passwords import check_complexity, hash_password, verify_password
from backend.personal_data import PersonalDataCipher

BAD_LOGIN = "用户名或密码错误"


class BadTotp(LoginFailed):
    code = "bad-totp"


class NotEnrolled(Conflict):
    code = "totp-not-enrolled"


class SamePassword(Refused):
    code = "same-password"


class AuthService:
    def __init__(
        self,
        factory: sessionmaker[Session],
        sessions: SessionStore,
        lockout: LockoutPolicy,
        throttle: LoginThrottle,
        used_steps: UsedSteps,
        links: EnrolmentLinks,
        *,
        cipher: PersonalDataCipher,
        rules: PasswordRules = PasswordRules(),
        clock: Callable[[], datetime] = utcnow,
        timezone: str = DEFAULT_TIMEZONE,
    ) -> None:
        """``timezone``: the centre's (settings.timezone), for the times users are shown."""
        self._factory = factory
        self._tz = zone(timezone)
        self.sessions = sessions
        self._lockout = lockout
        self._throttle = throttle
        self._used_steps = used_steps
        self.links = links
        self._cipher = cipher
        self._rules = rules
        self._clock = clock
        self._dummy_hash = ""

    # Password ----------------------------------------------------------------------------

    def login(self, username: str, password: str, source_ip: str) -> tuple[str, DeskSession]:
        """A new session token; LoginThrottled before anything else is looked at when the
        address or the name has failed too often; LoginFailed / AccountLocked otherwise
        (audited either way)."""
        refusal = self._throttle.reserve(source_ip, username)
        if refusal is not None:
            if refusal.first:
                with transaction(self._factory) as db:
                    add_audit(db, username or "?", "auth.login_throttled", source_ip=source_ip,
                              details={"by": refusal.by, "retry_after": refusal.retry_after})  # fmt: skip
            raise LoginThrottled(refusal.retry_after)
        token, session = self._check_password(username, password, source_ip)
        self._throttle.release(source_ip, username)
        return token, session

    def _check_password(
        self, username: str, password: str, source_ip: str
    ) -> tuple[str, DeskSession]:
        now = self._clock()
        with transaction(self._factory) as db:
            user = db.scalars(
                select(User).where(User.username == username).with_for_update()
            ).one_or_none()
            if user is None or not user.active:
                self._burn_time(password)
                add_audit(db, username or "?", "auth.login_failed", source_ip=source_ip,
                          details={"reason": "unknown-user" if user is None else "inactive"})  # fmt: skip
                failure: Exception = LoginFailed(BAD_LOGIN)
            elif self._lockout.is_locked(user.locked_until, now):
                add_audit(db, user.username, "auth.login_locked", target=f"user:{user.id}",
                          source_ip=source_ip)  # fmt: skip
                failure = self._locked(user.locked_until)
            elif not verify_password(user.password_hash, password):
                failure = self._fail(db, user, now, source_ip, "bad-password")
            else:
                user.failed_logins = 0
                user.locked_until = None
                session = DeskSession(
                    user_id=user.id,
                    username=user.username,
                    display_name=user.display_name,
                    role=user.role,
                    stage=self._stage_after_password(user),
                    created=time.time(),
                    source_ip=source_ip,
                    agent_id=db.scalar(select(Agent.id).where(Agent.user_id == user.id)),
                )
                add_audit(db, user.username, "auth.login", target=f"user:{user.id}",
                          source_ip=source_ip, details={"stage": session.stage.value})  # fmt: skip
                return self.sessions.create(session), session
        raise failure

    def _stage_after_password(self, user: User) -> Stage:
        if needs_second_factor(user.role):
            return Stage.TOTP
        return self._stage_after_totp(user)

    def _stage_after_totp(self, user: User) -> Stage:
        """The initial password, or one past its age, is changed before anything else."""
        expired = self._rules.expired(user, self._clock())
        return Stage.CHANGE_PASSWORD if user.must_change_password or expired else Stage.READY

    def _fail(
        self, db: Session, user: User, now: datetime, source_ip: str, reason: str
    ) -> Exception:
        user.failed_logins, locked_until = self._lockout.after_failure(user.failed_logins, now)
        add_audit(db, user.username, "auth.login_failed", target=f"user:{user.id}",
                  source_ip=source_ip, details={"reason": reason})  # fmt: skip
        if locked_until is not None:
            user.locked_until = locked_until
            add_audit(db, user.username, "auth.locked", target=f"user:{user.id}",
                      source_ip=source_ip, details={"until": locked_until.isoformat()})  # fmt: skip
            return self._locked(locked_until)
        if reason == "totp-reused":
            return BadTotp("该动态口令已使用过，请等待下一个口令", code="totp-reused")
        return BadTotp("动态口令错误") if reason == "bad-totp" else LoginFailed(BAD_LOGIN)

    def _locked(self, until: datetime | None) -> AccountLocked:
        shown = until.astimezone(self._tz).strftime("%H:%M") if until else ""
        return AccountLocked(f"连续登录失败次数过多，账户已锁定，请于 {shown} 后再试")

    def _burn_time(self, password: str) -> None:
        # Unknown users cost one hash check too, so timing does not reveal valid usernames.
        if not self._dummy_hash:
            self._dummy_hash = hash_password("Dummy-password-1")
        verify_password(self._dummy_hash, password)

    # Second factor -----------------------------------------------------------------------

    def verify_totp(
        self, token: str, session: DeskSession, code: str, source_ip: str
    ) -> tuple[str, DeskSession]:
        if session.stage is not Stage.TOTP:
            raise Conflict("当前登录步骤无需动态口令", code="totp-not-expected")
        now = self._clock()
        with transaction(self._factory) as db:
            user = db.get(User, session.user_id, with_for_update=True)
            if user is None or not user.active:
                raise LoginFailed(BAD_LOGIN)
            if self._lockout.is_locked(user.locked_until, now):
                raise self._locked(user.locked_until)
            stored = user.totp_secret_enc or session.pending_totp_secret
            if not stored:
                raise NotEnrolled("尚未绑定动态口令：请打开管理员发给您的绑定链接")
            step = matching_step(self._cipher.decrypt(stored), code, now)
            if step is None:
                failure = self._fail(db, user, now, source_ip, "bad-totp")
            elif not self._used_steps.claim(user.id, step):
                failure = self._fail(db, user, now, source_ip, "totp-reused")
            else:
                if not user.totp_secret_enc:
                    user.totp_secret_enc = stored  # already encrypted
                    add_audit(db, user.username, "auth.totp_enrolled", target=f"user:{user.id}",
                              source_ip=source_ip)  # fmt: skip
                add_audit(db, user.username, "auth.totp_ok", target=f"user:{user.id}",
                          source_ip=source_ip)  # fmt: skip
                return self.sessions.advance(token, session, self._stage_after_totp(user))
        if isinstance(failure, AccountLocked):
            self.sessions.delete(token)
        raise failure

    def start_enrolment(
        self, token: str, session: DeskSession, link: str, source_ip: str
    ) -> DeskSession:
        """A new secret to bind, for a user at the code step without one who presents the
        one-time link an administrator issued them; the code step then stores it."""
        with transaction(self._factory) as db:
            user = db.get(User, session.user_id, with_for_update=True)
            if session.stage is not Stage.TOTP or user is None or user.totp_secret_enc:
                raise Conflict("无需绑定动态口令", code="totp-enrolment-not-expected")
            if not self.links.redeem(link, user.id):
                audit_now(self._factory, user.username, "auth.totp_link_refused",
                          target=f"user:{user.id}", source_ip=source_ip)  # fmt: skip
                raise Forbidden(
                    "绑定链接无效、已使用或已过期，请向管理员重新申请", code="totp-link-invalid"
                )
            add_audit(db, user.username, "auth.totp_link_used", target=f"user:{user.id}",
                      source_ip=source_ip)  # fmt: skip
        pending = self._cipher.encrypt(pyotp.random_base32())
        enrolling = replace(session, pending_totp_secret=pending)
        self.sessions.update(token, enrolling)
        return enrolling

    # Password change ---------------------------------------------------------------------

    def change_password(
        self, token: str, session: DeskSession, old: str, new: str, source_ip: str
    ) -> tuple[str, DeskSession]:
        if session.stage is Stage.TOTP:
            # Someone with the password but not the second factor must not lock its owner out.
            audit_now(self._factory, session.username, "auth.password_change_refused",
                      target=f"user:{session.user_id}", source_ip=source_ip,
                      details={"reason": "totp-pending"})  # fmt: skip
            raise Forbidden("请先完成动态口令验证", code="totp-pending")
        with transaction(self._factory) as db:
            user = db.get(User, session.user_id, with_for_update=True)
            if user is None or not verify_password(user.password_hash, old):
                add_audit(db, session.username, "auth.password_change_failed",
                          target=f"user:{session.user_id}", source_ip=source_ip)  # fmt: skip
                failure: Exception = LoginFailed("原密码错误")
            elif old == new:
                failure = SamePassword("新密码不能与原密码相同")
            else:
                check_complexity(new, user.username)
                check_not_reused(db, user, new, self._rules)
                remember(db, user, self._clock())
                user.password_hash = hash_password(new)
                user.must_change_password = False
                user.password_changed_at = self._clock()
                prune(db, user, self._rules)
                stage = Stage.READY if session.stage is Stage.CHANGE_PASSWORD else session.stage
                new_token, after = self.sessions.advance(token, session, stage)
                # Whoever else holds a session of this user (a stolen cookie) is out.
                ended = self.sessions.end_other_sessions(user.id, keep=new_token)
                add_audit(db, user.username, "auth.password_changed", target=f"user:{user.id}",
                          source_ip=source_ip, details={"other_sessions_ended": ended})  # fmt: skip
                return new_token, after
        raise failure

    def logout(self, token: str, session: DeskSession, source_ip: str) -> None:
        self.sessions.delete(token)
        with transaction(self._factory) as db:
            add_audit(db, session.username, "auth.logout", target=f"user:{session.user_id}",
                      source_ip=source_ip)  # fmt: skip
