"""Server-side sessions in Redis: the browser holds only a random token.

A session expires after ``minutes`` without an action of its user (sliding: the live feed and
pages refreshing themselves do not count, except the feed of an agent taking calls, see
``activity``), and never lives longer than a
shift (``MAX_HOURS``) even when used. Only a hash of the token is stored, so a Redis dump
cannot be replayed as cookies.
"""

from __future__ import annotations

import enum
import hashlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

import redis

from backend.models.users import Role

MAX_HOURS = 12


class Stage(enum.StrEnum):
    READY = "ready"  # fully logged in
    TOTP = "totp"  # password accepted, second factor pending
    CHANGE_PASSWORD = "change_password"  # initial or expired password must be changed first


@dataclass(frozen=True)
class DeskSession:
    user_id: int
    username: str
    display_name: str
    role: Role
    stage: Stage
    created: float
    source_ip: str = ""
    agent_id: int | None = None
    pending_totp_secret: str = ""  # during first TOTP enrolment only, encrypted

    @property
    def ready(self) -> bool:
        return self.stage is Stage.READY


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionStore:
    def __init__(
        self,
        client: redis.Redis,
        prefix: str,
        minutes: int,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = client
        self._prefix = f"{prefix}:desk:session"
        self._user_prefix = f"{prefix}:desk:user-sessions"
        self._ttl = minutes * 60
        self._clock = clock

    def _key(self, token: str) -> str:
        return f"{self._prefix}:{_digest(token)}"

    def _user_key(self, user_id: int) -> str:
        return f"{self._user_prefix}:{user_id}"

    def create(self, session: DeskSession) -> str:
        token = secrets.token_urlsafe(32)
        self._write(token, session)
        # The user's sessions, so that a password change can end all but the changer's.
        pipe = self._redis.pipeline()
        pipe.sadd(self._user_key(session.user_id), _digest(token))
        pipe.expire(self._user_key(session.user_id), MAX_HOURS * 3600)
        pipe.execute()
        return token

    def get(self, token: str, *, touch: bool = True) -> DeskSession | None:
        """The session, its idle timer restarted unless ``touch`` is false (a request its user
        did not make); None when unknown, idle too long or too old."""
        if not token:
            return None
        raw = self._redis.get(self._key(token))
        if raw is None:
            return None
        data = json.loads(str(raw))
        session = DeskSession(**{**data, "role": Role(data["role"]), "stage": Stage(data["stage"])})
        if self._clock() - session.created > MAX_HOURS * 3600 or self._revoked(session):
            self.delete(token)
            return None
        if touch:
            self._redis.expire(self._key(token), self._ttl)
        return session

    def end_other_sessions(self, user_id: int, keep: str) -> int:
        """End every session of the user but ``keep``'s (a password change); how many ended."""
        kept = _digest(keep)
        members = self._redis.smembers(self._user_key(user_id))
        others = [str(d) for d in members if d != kept]
        if not others:
            return 0
        pipe = self._redis.pipeline()
        for digest in others:
            pipe.delete(f"{self._prefix}:{digest}")
        pipe.srem(self._user_key(user_id), *others)
        return sum(int(n) for n in pipe.execute()[:-1])

    def revoke_user(self, user_id: int) -> None:
        """End every session of a user (deactivated, password reset by an administrator)."""
        self._redis.set(
            f"{self._prefix}:revoked:{user_id}", repr(self._clock()), ex=MAX_HOURS * 3600
        )

    def _revoked(self, session: DeskSession) -> bool:
        raw = self._redis.get(f"{self._prefix}:revoked:{session.user_id}")
        return raw is not None and session.created <= float(str(raw))

    def update(self, token: str, session: DeskSession) -> None:
        self._write(token, session)

    def advance(self, token: str, session: DeskSession, stage: Stage) -> tuple[str, DeskSession]:
        """Move to the next login stage under a new token (no session fixation across a
        privilege change); the old token stops working."""
        after = replace(session, stage=stage, pending_totp_secret="")
        new_token = self.create(after)
        self.delete(token)
        return new_token, after

    def delete(self, token: str) -> None:
        self._redis.delete(self._key(token))

    def _write(self, token: str, session: DeskSession) -> None:
        self._redis.set(self._key(token), json.dumps(asdict(session)), ex=self._ttl)
