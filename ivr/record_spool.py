"""Call records (and their recordings' index entries) kept while PostgreSQL is unavailable,
written when it is back.

A call that arrives while PostgreSQL is down or recovering is still served (its flow, or the
fallback), so its call record must not be lost with the failed write. When the controller's
opening or closing of a record fails because the database cannot be reached, the write is
appended to a spool: a JSON-lines file in ``<CC_STATE_DIR>/spool/`` (a file, not Redis: it
must work whichever server is down, and survive the controller's own restart). A loop under
the controller's supervisor replays the file in order once PostgreSQL answers again.

Replays are idempotent: an open is an insert-if-absent on the unique ``call_id``, a close
sets ``ended_at`` only on a record still open, a recording is registered once per path
(``RecordingIndex.register``), "unrecorded" is a plain update. A spooled write the database
refuses for another reason than being unavailable is logged and dropped, so that it cannot
hold back every write behind it. Order is kept per call: while a call has a
spooled write, its later writes are spooled behind it instead of going straight to the
database, so a close never reaches PostgreSQL before its open.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from backend.db import transaction
from backend.models.calls import CallRecord, Line
from recordings.index import RecordingIndex

log = logging.getLogger("ivr.record_spool")

# What "PostgreSQL is unavailable" looks like to SQLAlchemy: refused or cut connections, a
# server starting up or recovering, a pool with no connection to give.
UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)
REPLAY_EVERY_SECONDS = 2.0


def spool_path(state_dir: Path) -> Path:
    return state_dir / "spool" / "call-records.jsonl"


def _open(session: Session, entry: dict[str, Any]) -> None:
    values = dict(entry["values"])
    values["line"] = Line(values["line"])
    values["started_at"] = datetime.fromisoformat(values["started_at"])
    statement = insert(CallRecord).values(call_id=entry["call_id"], **values)
    session.execute(statement.on_conflict_do_nothing(index_elements=["call_id"]))


def _close(session: Session, entry: dict[str, Any]) -> None:
    session.execute(
        update(CallRecord)
        .where(CallRecord.call_id == entry["call_id"], CallRecord.ended_at.is_(None))
        .values(ended_at=datetime.fromisoformat(entry["ended_at"]))
    )


def _unrecorded(session: Session, entry: dict[str, Any]) -> None:
    session.execute(
        update(CallRecord)
        .where(CallRecord.call_id == entry["call_id"])
        .values(unrecorded=entry["why"][:32])
    )


WRITERS: dict[str, Callable[[Session, dict[str, Any]], None]] = {
    "open": _open,
    "close": _close,
    "unrecorded": _unrecorded,
}


class RecordSpool:
    """Opens and closes call records, through the spool when PostgreSQL is unavailable."""

    def __init__(
        self, session_factory: sessionmaker[Session], recordings: RecordingIndex, path: Path
    ) -> None:
        self._sessions = session_factory
        self._recordings = recordings
        self._path = path
        self._lock = threading.Lock()  # writes come from worker threads
        self._pending = {entry["call_id"] for entry in self._read()}

    def open(self, call_id: str, values: dict[str, Any]) -> None:
        """``values``: the record's columns; ``line`` a line code, ``started_at`` a datetime."""
        plain = {**values, "line": str(Line(values["line"]).value)}
        plain["started_at"] = values["started_at"].isoformat()
        self._write({"op": "open", "call_id": call_id, "values": plain})

    def close(self, call_id: str, ended_at: datetime) -> None:
        self._write({"op": "close", "call_id": call_id, "ended_at": ended_at.isoformat()})

    def recording(self, call_id: str, asterisk_path: str, line: str) -> None:
        """The call's recording registered as being written (``RecordingIndex.register``);
        a path the index refuses raises ``ValueError`` at once, never spooled."""
        self._recordings.relative(asterisk_path)
        self._write({"op": "recording", "call_id": call_id, "path": asterisk_path, "line": line})

    def unrecorded(self, call_id: str, why: str) -> None:
        self._write({"op": "unrecorded", "call_id": call_id, "why": why})

    def pending(self) -> int:
        """Writes waiting in the spool."""
        with self._lock:
            return len(self._read())

    def replay(self) -> int:
        """Write the spooled records in order; stop at the first failure, keeping the rest.
        Returns how many were written."""
        with self._lock:
            entries = self._read()
        done = 0
        try:
            for entry in entries:
                try:
                    self._apply(entry)
                except UNAVAILABLE:
                    raise
                except Exception:
                    log.exception("call-record spool: %s dropped, refused", entry)
                done += 1
        except UNAVAILABLE as exc:
            log.info("call-record spool: PostgreSQL still unavailable (%s)", type(exc).__name__)
        finally:
            if done:
                self._drop_first(done)
        if done:
            log.warning("call-record spool: %d delayed writes done", done)
        return done

    async def run(self, stop: asyncio.Event, every: float = REPLAY_EVERY_SECONDS) -> None:
        """The supervised loop: replay whenever something waits in the spool."""
        while not stop.is_set():
            if self._pending:
                await asyncio.to_thread(self.replay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)

    # -- the file --------------------------------------------------------------------------

    def _write(self, entry: dict[str, Any]) -> None:
        with self._lock:
            behind = entry["call_id"] in self._pending
        if not behind:  # the database is not written under the lock: calls go on in parallel
            try:
                self._apply(entry)
                return
            except UNAVAILABLE as exc:
                log.warning(
                    "call %s: PostgreSQL unavailable (%s), %s of its record spooled",
                    entry["call_id"],
                    type(exc).__name__,
                    entry["op"],
                )
        with self._lock:
            self._append(entry)

    def _apply(self, entry: dict[str, Any]) -> None:
        if entry["op"] == "recording":
            self._recordings.register(entry["call_id"], entry["path"], entry["line"])
            return
        with transaction(self._sessions) as session:
            WRITERS[entry["op"]](session, entry)

    def _append(self, entry: dict[str, Any]) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        with self._path.open("a", encoding="utf-8") as spool:
            spool.write(json.dumps(entry, ensure_ascii=False) + "\n")
            spool.flush()
            os.fsync(spool.fileno())  # a spooled record survives the controller's crash
        self._pending.add(entry["call_id"])

    def _read(self) -> list[dict[str, Any]]:
        try:
            text = self._path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        entries = []
        for line in text.splitlines():
            with contextlib.suppress(ValueError):  # a line cut short by a crash mid-append
                entries.append(json.loads(line))
        return entries

    def _drop_first(self, count: int) -> None:
        with self._lock:
            rest = self._read()[count:]
            partial = self._path.with_suffix(".tmp")
            partial.write_text(
                "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in rest), encoding="utf-8"
            )
            partial.replace(self._path)
            self._pending = {entry["call_id"] for entry in rest}
