"""Idempotency keys kept in PostgreSQL, so that any web worker sees every other's keys.

A retry with the same key and body gets the first result (or the first refusal); the same key
while the first request still runs gets ``IdempotencyConflict`` (409); the same key with another
body gets ``IdempotencyKeyReused`` (422). The "done" mark is written in the same transaction as
the work itself, so a crash can never leave work done but the key open for a second run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from backend.booking.errors import (
    BookingNotFound,
    BookingRefused,
    IdempotencyConflict,
    IdempotencyKeyReused,
)
from backend.errors import CallCenterError, Conflict, NotFound, Refused
from backend.models.booking import IdempotencyKey

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


class IdempotencyStore:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        clock: Callable[[], datetime],
        *,
        stale_after: timedelta = timedelta(minutes=2),
    ) -> None:
        self._factory = session_factory
        self._clock = clock
        # A request still "in progress" after this long died with its worker: let a retry run.
        self._stale_after = stale_after

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
            if "error" in replay:
                raise _replay_error(replay["error"])
            result: dict[str, Any] = replay["result"]
            return result
        try:
            with self._factory() as session, session.begin():
                result = operation(session)
                self._finish(session, scope, key, {"result": result})
            return result
        except CallCenterError as exc:
            # A refusal is an answer too: a retry must hear the same one.
            with self._factory() as session, session.begin():
                self._finish(session, scope, key, _error_record(exc))
            raise
        except Exception:
            # Unexpected failure: nothing was committed, so let a retry run afresh.
            with self._factory() as session, session.begin():
                session.execute(
                    delete(IdempotencyKey).where(
                        IdempotencyKey.scope == scope, IdempotencyKey.key == key
                    )
                )
            raise

    def _claim(self, scope: str, key: str, digest: str) -> dict[str, Any] | None:
        """Register the key as in progress, or return the stored response of an earlier run."""
        now = self._clock()
        with self._factory() as session, session.begin():
            inserted = session.execute(
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
                .returning(IdempotencyKey.key)
            ).first()
            if inserted is not None:
                return None
            row = session.execute(
                select(IdempotencyKey)
                .where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
                .with_for_update()
            ).scalar_one()
            if row.request_hash != digest:
                raise IdempotencyKeyReused("该 Idempotency-Key 已用于另一个不同的请求")
            if row.status == DONE and row.response is not None:
                return row.response
            if row.updated_at > now - self._stale_after:
                raise IdempotencyConflict("使用该 Idempotency-Key 的请求仍在处理中，请稍后重试")
            row.updated_at = now  # take over a request whose worker died
            return None

    def _finish(self, session: Session, scope: str, key: str, response: dict[str, Any]) -> None:
        session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
            .values(status=DONE, response=response, updated_at=self._clock())
        )
