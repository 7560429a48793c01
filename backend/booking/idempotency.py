"""Idempotency keys kept in PostgreSQL, so that any web worker sees every other's keys.

A retry with the same key and body gets the first result (or the first refusal); the same key
while the first request still runs gets ``IdempotencyConflict`` (409); the same key with another
body gets ``IdempotencyKeyReused`` (422). The "done" mark is written in the same transaction as
the work itself, so a crash can never leave work done but the key open for a second run.

"Still runs" is told by a row lock, not by a clock: the work's transaction holds the key's row
``FOR UPDATE`` until it commits or dies. A key left "in progress" by a worker that was killed,
or by a database that went away mid-request, is unlocked, so the retry after recovery takes it
over at once (the work's transaction re-reads the row under the lock, so of two takers only the
first does the work; the second replays its answer). A refusal is remembered as the answer; an
outage (``ServiceUnavailable``) is not, since the retry after it must run afresh.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import Insert, insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from backend.booking.errors import (
    BookingNotFound,
    BookingRefused,
    IdempotencyConflict,
    IdempotencyKeyReused,
)
from backend.errors import CallCenterError, Conflict, NotFound, Refused, ServiceUnavailable
from backend.models.booking import IdempotencyKey

log = logging.getLogger(__name__)

IN_PROGRESS = "in_progress"
DONE = "done"
MAX_KEY_LENGTH = 128


def request_hash(payload: Mapping[str, Any]) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _error_record(exc: CallCenterError) -> dict[str, Any]:
    kind = (
        "refused" if isinstance(exc, Refused) else "not_found" if isinstance(exc, NotFound) else ""
    )
    kind = kind or ("conflict" if isinstance(exc, Conflict) else "error")
    return {"error": {"kind": kind, "code": exc.code, "message": exc.message}}


def _replay_error(record: Mapping[str, str]) -> CallCenterError:
    kind, code, message = record["kind"], record["code"], record["message"]
    if kind == "refused":
        return BookingRefused(code, message)
    if kind == "not_found":
        return BookingNotFound(message, code=code)
    if kind == "conflict":
        return Conflict(message, code=code)
    return CallCenterError(message, code=code)


def _open_key(scope: str, key: str, digest: str, now: datetime) -> Insert:
    """The key's row, in progress, unless it exists already."""
    return (
        insert(IdempotencyKey)
        .values(
            scope=scope,
            key=key,
            request_hash=digest,
            status=IN_PROGRESS,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing()
    )


def _replayed(stored: Mapping[str, Any]) -> dict[str, Any]:
    """The first run's answer again: its result, or its refusal raised anew."""
    if "error" in stored:
        raise _replay_error(stored["error"])
    result: dict[str, Any] = stored["result"]
    return result


class IdempotencyStore:
    def __init__(
        self, session_factory: sessionmaker[Session], clock: Callable[[], datetime]
    ) -> None:
        self._factory = session_factory
        self._clock = clock

    def run(
        self,
        scope: str,
        key: str,
        payload: Mapping[str, Any],
        operation: Callable[[Session], dict[str, Any]],
    ) -> dict[str, Any]:
        if not key or len(key) > MAX_KEY_LENGTH:
            raise CallCenterError(
                f"Idempotency-Key 须为1到{MAX_KEY_LENGTH}个字符", code="bad-idempotency-key"
            )
        digest = request_hash(payload)
        replay = self._claim(scope, key, digest)
        if replay is not None:
            return _replayed(replay)
        try:
            with self._factory() as session, session.begin():
                replay = self._lock_open_key(session, scope, key, digest)
                if replay is None:
                    result = operation(session)
                    self._finish(session, scope, key, {"result": result})
        except ServiceUnavailable:
            self._release(scope, key)
            raise
        except CallCenterError as exc:
            # A refusal is an answer too: a retry must hear the same one.
            with self._factory() as session, session.begin():
                self._finish(session, scope, key, _error_record(exc))
            raise
        except Exception:
            self._release(scope, key)
            raise
        return result if replay is None else _replayed(replay)

    def _release(self, scope: str, key: str) -> None:
        """Unexpected failure: nothing was committed, so let a retry run afresh. When the
        database itself is gone the delete fails too; the key then stays "in progress" but
        unlocked, which a retry takes over just the same."""
        try:
            with self._factory() as session, session.begin():
                session.execute(
                    delete(IdempotencyKey).where(
                        IdempotencyKey.scope == scope,
                        IdempotencyKey.key == key,
                        IdempotencyKey.status == IN_PROGRESS,  # never another taker's answer
                    )
                )
        except SQLAlchemyError as exc:
            log.warning("idempotency key %s/%s left open for a retry: %s", scope, key, exc)

    def _claim(self, scope: str, key: str, digest: str) -> dict[str, Any] | None:
        """Register the key as in progress, or return the stored response of an earlier run."""
        now = self._clock()
        with self._factory() as session, session.begin():
            inserted = session.execute(
                _open_key(scope, key, digest, now).returning(IdempotencyKey.key)
            ).first()
            if inserted is not None:
                return None
            row = session.execute(
                select(IdempotencyKey)
                .where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
                .with_for_update(skip_locked=True)
            ).scalar_one_or_none()
            if row is None:
                # Locked: the first request's transaction is working on it right now.
                raise IdempotencyConflict("使用该 Idempotency-Key 的请求仍在处理中，请稍后重试")
            if row.request_hash != digest:
                raise IdempotencyKeyReused("该 Idempotency-Key 已用于另一个不同的请求")
            if row.status == DONE and row.response is not None:
                return row.response
            row.updated_at = now  # take over a request whose worker died
            return None

    def _lock_open_key(
        self, session: Session, scope: str, key: str, digest: str
    ) -> dict[str, Any] | None:
        """Hold the key's row for the work's transaction; the stored answer if another taker
        finished first. A row deleted by a failed run meanwhile is claimed again."""
        locked = (
            select(IdempotencyKey)
            .where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
            .with_for_update()
        )
        row = session.execute(locked).scalar_one_or_none()
        if row is None:
            session.execute(_open_key(scope, key, digest, self._clock()))
            row = session.execute(locked).scalar_one()
        if row.status == DONE and row.response is not None:
            return row.response
        return None

    def _finish(self, session: Session, scope: str, key: str, response: dict[str, Any]) -> None:
        session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
            .values(status=DONE, response=response, updated_at=self._clock())
        )
