"""The recordings index: every call's file, from "being written" to complete, repaired,
missing or deleted by retention.

The controller registers the recording when the call starts (so a call without a recording
is visible), and asks for it to be completed when the call ends. Asterisk closes the file a
moment after the hang-up, so completion waits briefly; what is not closed by then is left to
the periodic sweep, which completes it later, or — if nothing has written to it for a while
(Asterisk crashed) — repairs its header. A file that never appeared is flagged missing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from backend.models.audit import AuditRecord
from backend.models.calls import CallRecord, Recording, RecordingStatus
from backend.settings import Settings
from recordings.keys import master_key
from recordings.paths import RecordingPathRefused, below, contained
from recordings.sealed import (
    RecordingTampered,
    Sealed,
    SealedReader,
    is_sealed,
    leftovers,
    seal,
)
from recordings.wavfile import HEAD_BYTES, NotAWavFile, WavLayout, parse_layout, read_layout, repair

log = logging.getLogger("recordings.index")

# A file untouched this long while its header is still open was abandoned by its writer.
STALE_AFTER = timedelta(minutes=2)
# A registered file that has not appeared this long after the call started is missing.
MISSING_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class SweepReport:
    completed: int = 0
    repaired: int = 0
    missing: int = 0


@dataclass(frozen=True)
class RetentionReport:
    deleted: int
    freed_bytes: int


class RecordingIndex:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        settings: Settings,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sessions = session_factory
        self._asterisk_root = settings.effective_asterisk_recordings_dir.rstrip("/")
        self.root = settings.effective_recordings_dir
        self._master = master_key(settings)
        self._now = now

    def relative(self, asterisk_path: str) -> str:
        """The path below the recordings directory, the same on every machine; a path
        elsewhere or climbing out with ``..`` is refused (RecordingPathRefused)."""
        return below(self._asterisk_root, asterisk_path)

    def file(self, recording: Recording) -> Path:
        """The recording's file; refused when its path (or a symlink on it) leads out."""
        return contained(self.root, recording.path)

    # The controller's calls ------------------------------------------------------------

    def register(self, call_id: str, asterisk_path: str, line: str, category: str = "call") -> int:
        """Called when the call starts: the recording exists from now on, as unfinished.
        Idempotent, also when two processes register the same file at once (the controller,
        and a call card's settler); the call's record is linked when it has no recording."""
        relative = self.relative(asterisk_path)
        with self._sessions() as session, session.begin():
            session.execute(
                insert(Recording)
                .values(
                    call_id=call_id,
                    path=relative,
                    line=line,
                    category=category,
                    started_at=self._now(),
                    status=RecordingStatus.RECORDING,
                    duration_seconds=0.0,
                    size_bytes=0,
                )
                .on_conflict_do_nothing(index_elements=["path"])
            )
            recording_id = session.scalar(select(Recording.id).where(Recording.path == relative))
            assert recording_id is not None  # inserted, or there already
            session.execute(
                update(CallRecord)
                .where(CallRecord.call_id == call_id, CallRecord.recording_id.is_(None))
                .values(recording_id=recording_id)
            )
            return recording_id

    def finish(self, call_id: str, agent_id: int | None = None, wait_seconds: float = 5.0) -> bool:
        """Called when the call ends: complete it once Asterisk has closed the file."""
        deadline = time.monotonic() + wait_seconds
        while True:
            with self._sessions() as session, session.begin():
                recording = session.scalar(
                    select(Recording).where(
                        Recording.call_id == call_id,
                        Recording.status == RecordingStatus.RECORDING,
                    )
                )
                if recording is None:
                    return False
                if agent_id is not None:
                    recording.agent_id = agent_id
                if self._complete_if_closed(recording):
                    return True
            if time.monotonic() >= deadline:
                return False  # the sweep completes it later
            time.sleep(0.2)

    # The periodic sweep ----------------------------------------------------------------

    def sweep(self) -> SweepReport:
        completed = repaired = missing = 0
        now = self._now()
        with self._sessions() as session, session.begin():
            open_ones = session.scalars(
                select(Recording).where(Recording.status == RecordingStatus.RECORDING)
            ).all()
            for recording in open_ones:
                path = self._file_or_none(recording)
                if path is None or not path.exists():
                    if now - recording.started_at > MISSING_AFTER:
                        recording.status = RecordingStatus.MISSING
                        missing += 1
                    continue
                if self._complete_if_closed(recording):
                    completed += 1
                    continue
                modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
                if now - modified > STALE_AFTER and self._repair(recording):
                    repaired += 1
        return SweepReport(completed, repaired, missing)

    def apply_retention(self, keep_days: dict[str, int], actor: str = "system") -> RetentionReport:
        """Delete files older than their category's retention; the rows stay as the record."""
        now = self._now()
        deleted = freed = 0
        with self._sessions() as session, session.begin():
            for category, days in keep_days.items():
                expired = session.scalars(
                    select(Recording).where(
                        Recording.category == category,
                        Recording.started_at < now - timedelta(days=days),
                        Recording.status.in_([RecordingStatus.COMPLETE, RecordingStatus.REPAIRED]),
                    )
                ).all()
                for recording in expired:
                    path = self._file_or_none(recording)
                    if path is not None:  # a path leading out is never followed to delete
                        path.unlink(missing_ok=True)
                        for stale in leftovers(path):  # a sealing a crash cut short
                            stale.unlink(missing_ok=True)
                    freed += recording.size_bytes
                    deleted += 1
                    recording.status = RecordingStatus.DELETED
                    session.add(
                        AuditRecord(
                            actor=actor,
                            action="recording.delete",
                            target=f"recording:{recording.id}",
                            details={"call_id": recording.call_id, "retention_days": days},
                        )
                    )
        return RetentionReport(deleted, freed)

    def seal_existing(self) -> int:
        """Seal finished recordings still in clear (made before recordings were sealed, as
        an upgraded centre has them); how many it sealed. Their size and checksum stay: both
        were, and are, the recording's own."""
        with self._sessions() as session:
            finished = session.scalars(
                select(Recording).where(
                    Recording.status.in_([RecordingStatus.COMPLETE, RecordingStatus.REPAIRED])
                )
            ).all()
        sealed = 0
        for recording in finished:
            path = self._file_or_none(recording)
            if path is not None and path.is_file() and not is_sealed(path):
                seal(path, self._master)
                sealed += 1
        return sealed

    # Helpers ---------------------------------------------------------------------------

    def _file_or_none(self, recording: Recording) -> Path | None:
        """The file, or None (logged) when its path leads out of the root: one bad row must
        not stop the sweep or the retention of every other recording."""
        try:
            return self.file(recording)
        except RecordingPathRefused as exc:
            log.warning("recording %s: %s", recording.id, exc.message)
            return None

    def _complete_if_closed(self, recording: Recording) -> bool:
        path = self._file_or_none(recording)
        if path is None:
            return False
        try:
            if is_sealed(path):
                # Sealed by an earlier attempt that died before its commit: only sealed
                # files that were complete (or repaired) exist, so it is finished.
                return self._fill_sealed(recording, path)
            layout = read_layout(path)
        except (OSError, NotAWavFile):
            return False
        if not layout.complete:
            return False
        return self._seal(recording, path, layout, RecordingStatus.COMPLETE)

    def _repair(self, recording: Recording) -> bool:
        path = self._file_or_none(recording)
        if path is None:
            return False
        try:
            repair(path)
            layout = read_layout(path)
        except (OSError, NotAWavFile):
            return False
        return self._seal(recording, path, layout, RecordingStatus.REPAIRED)

    def _seal(
        self, recording: Recording, path: Path, layout: WavLayout, status: RecordingStatus
    ) -> bool:
        """Encrypt the finished file in place (before the row says so: a crash in between
        leaves a sealed file under an open row, which the next attempt completes)."""
        try:
            sealed = seal(path, self._master)
        except OSError as exc:
            log.warning("recording %s not sealed yet: %s", recording.id, exc)
            return False
        self._fill(recording, sealed, layout.duration_seconds, status)
        return True

    def _fill_sealed(self, recording: Recording, path: Path) -> bool:
        try:
            reader = SealedReader(path, self._master)
            head = b"".join(reader.read_range(0, HEAD_BYTES - 1))
            layout = parse_layout(head, reader.size, path)
            sealed = reader.digest()
        except (RecordingTampered, NotAWavFile) as exc:
            log.warning("recording %s: %s", recording.id, exc)
            return False
        self._fill(recording, sealed, layout.duration_seconds, RecordingStatus.COMPLETE)
        return True

    @staticmethod
    def _fill(
        recording: Recording, sealed: Sealed, seconds: float, status: RecordingStatus
    ) -> None:
        # Size and digest are the recording's own (the WAV a player gets), not the sealed file's.
        recording.duration_seconds = round(seconds, 3)
        recording.size_bytes = sealed.plain_size
        recording.sha256 = sealed.sha256
        recording.status = status
