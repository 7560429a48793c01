"""The recordings index on real PostgreSQL and real files."""

from __future__ import annotations

import hashlib
import io
import os
import struct
import time
import uuid
import wave
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.models.audit import AuditRecord
from backend.models.calls import CallRecord, Line, Recording, RecordingStatus
from backend.settings import Settings, load_settings
from recordings.index import RecordingIndex
from recordings.keys import master_key
from recordings.sealed import SealedReader, is_sealed, leftovers, seal
from recordings.wavfile import read_layout
from tests.stack_process import run_cli


class Clock:
    def __init__(self) -> None:
        self.at = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture()
def rec_settings(settings: Settings, tmp_path: Path) -> Settings:
    return load_settings(
        database_url=settings.database_url,
        asterisk_recordings_dir="/rec",
        recordings_dir=tmp_path,
    )


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def index(
    session_factory: sessionmaker[Session], rec_settings: Settings, clock: Clock
) -> RecordingIndex:
    return RecordingIndex(session_factory, rec_settings, now=clock)


def new_call(session_factory: sessionmaker[Session]) -> str:
    call_id = f"call-{uuid.uuid4().hex[:10]}"
    with session_factory() as session, session.begin():
        session.add(CallRecord(call_id=call_id, line=Line.APPOINTMENT_114))
    return call_id


def write_wav(path: Path, seconds: float, *, open_header: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"\x02\x00" * int(seconds * 8000))
    if open_header:  # as Asterisk leaves it while writing, or after a crash
        offset = read_layout(path).data_offset
        with open(path, "r+b") as f:
            f.seek(4)
            f.write(struct.pack("<I", 0))
            f.seek(offset - 4)
            f.write(struct.pack("<I", 0))


def get(session_factory: sessionmaker[Session], call_id: str) -> Recording:
    with session_factory() as session:
        recording = session.scalar(select(Recording).where(Recording.call_id == call_id))
        assert recording is not None
        return recording


def closed_recording(
    index: RecordingIndex,
    factory: sessionmaker[Session],
    rec_settings: Settings,
    seconds: float,
) -> tuple[str, Path, bytes]:
    """A call whose recording Asterisk has written and closed: its id, file and bytes."""
    call_id = new_call(factory)
    index.register(call_id, f"/rec/2026/11/25/{call_id}.wav", "114")
    path = rec_settings.effective_recordings_dir / f"2026/11/25/{call_id}.wav"
    write_wav(path, seconds)
    return call_id, path, path.read_bytes()


def test_registered_recording_is_linked_and_not_complete(
    index: RecordingIndex, session_factory: sessionmaker[Session]
) -> None:
    call_id = new_call(session_factory)
    recording_id = index.register(call_id, f"/rec/2026/11/25/{call_id}.wav", "114")
    with session_factory() as session:
        record = session.scalar(select(CallRecord).where(CallRecord.call_id == call_id))
        assert record is not None and record.recording_id == recording_id
    assert get(session_factory, call_id).status == RecordingStatus.RECORDING


def test_closed_file_is_completed_with_duration_size_and_checksum(
    index: RecordingIndex, session_factory: sessionmaker[Session], rec_settings: Settings
) -> None:
    call_id, path, original = closed_recording(index, session_factory, rec_settings, 4.0)
    assert index.finish(call_id, agent_id=None, wait_seconds=0)
    recording = get(session_factory, call_id)
    assert recording.status == RecordingStatus.COMPLETE
    assert recording.duration_seconds == pytest.approx(4.0)
    # Size and checksum are the recording's own; the file on disk is sealed.
    assert recording.size_bytes == len(original)
    assert recording.sha256 == hashlib.sha256(original).hexdigest()
    assert is_sealed(path) and b"RIFF" not in path.read_bytes()
    assert SealedReader(path, master_key(rec_settings)).read_all() == original


def test_a_crash_between_sealing_and_the_commit_is_completed_by_the_sweep(
    index: RecordingIndex, session_factory: sessionmaker[Session], rec_settings: Settings
) -> None:
    call_id, path, original = closed_recording(index, session_factory, rec_settings, 2.0)
    seal(path, master_key(rec_settings))  # the attempt that died before its commit

    assert index.sweep().completed >= 1
    recording = get(session_factory, call_id)
    assert recording.status == RecordingStatus.COMPLETE
    assert recording.duration_seconds == pytest.approx(2.0)
    assert recording.sha256 == hashlib.sha256(original).hexdigest()
    assert recording.size_bytes == len(original)


def test_a_crash_while_sealing_leaves_the_plaintext_and_finishing_again_seals_it(
    index: RecordingIndex, session_factory: sessionmaker[Session], rec_settings: Settings
) -> None:
    call_id, path, original = closed_recording(index, session_factory, rec_settings, 2.0)
    # What a crash before the rename leaves: the plaintext and a half-written sealed copy.
    half = path.with_name(path.name + ".sealing-dead")
    half.write_bytes(b"CCREC1\x00\x00" + os.urandom(100))

    assert index.finish(call_id, wait_seconds=0)
    assert SealedReader(path, master_key(rec_settings)).read_all() == original
    assert leftovers(path) == []


def test_file_still_being_written_is_never_complete_then_a_crash_is_repaired(
    index: RecordingIndex,
    session_factory: sessionmaker[Session],
    rec_settings: Settings,
    clock: Clock,
) -> None:
    call_id = new_call(session_factory)
    index.register(call_id, f"/rec/x/{call_id}.wav", "hotline")
    path = rec_settings.effective_recordings_dir / f"x/{call_id}.wav"
    write_wav(path, 3.0, open_header=True)
    assert not index.finish(call_id, wait_seconds=0)
    index.sweep()  # written to just now: still open, left alone
    assert get(session_factory, call_id).status == RecordingStatus.RECORDING

    old = time.time() - 600
    os.utime(path, (old, old))  # nobody wrote for 10 minutes: the writer died
    report = index.sweep()
    assert report.repaired >= 1
    recording = get(session_factory, call_id)
    assert recording.status == RecordingStatus.REPAIRED
    assert recording.duration_seconds == pytest.approx(3.0)
    repaired = SealedReader(path, master_key(rec_settings)).read_all()
    with wave.open(io.BytesIO(repaired)) as wav:
        assert wav.getnframes() == 24000


def test_file_that_never_appears_is_flagged_missing(
    index: RecordingIndex, session_factory: sessionmaker[Session], clock: Clock
) -> None:
    call_id = new_call(session_factory)
    index.register(call_id, f"/rec/y/{call_id}.wav", "114")
    index.sweep()
    assert get(session_factory, call_id).status == RecordingStatus.RECORDING
    clock.at += timedelta(minutes=10)
    assert index.sweep().missing >= 1
    assert get(session_factory, call_id).status == RecordingStatus.MISSING


def test_retention_deletes_old_files_and_logs_each_deletion(
    index: RecordingIndex,
    session_factory: sessionmaker[Session],
    rec_settings: Settings,
    clock: Clock,
) -> None:
    call_id = new_call(session_factory)
    category = f"test-{call_id}"  # its own retention class: other tests' rows stay
    index.register(call_id, f"/rec/z/{call_id}.wav", "114", category=category)
    path = rec_settings.effective_recordings_dir / f"z/{call_id}.wav"
    write_wav(path, 1.0)
    index.finish(call_id, wait_seconds=0)
    clock.at += timedelta(days=200)
    assert is_sealed(path)
    cut_short = path.with_name(path.name + ".sealing-dead")  # ciphertext a crash left
    cut_short.write_bytes(b"CCREC1")
    report = index.apply_retention({category: 180}, actor="retention-job")
    assert report.deleted == 1
    assert report.freed_bytes == 44 + 16000  # the recording's own size
    assert not path.exists() and not cut_short.exists()
    assert get(session_factory, call_id).status == RecordingStatus.DELETED
    with session_factory() as session:
        audit = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "recording.delete")
        ).all()
    assert any(a.details["call_id"] == call_id and a.actor == "retention-job" for a in audit)


def test_recordings_an_upgraded_centre_kept_in_clear_are_sealed_by_the_cli(
    index: RecordingIndex,
    session_factory: sessionmaker[Session],
    rec_settings: Settings,
    tmp_path: Path,
) -> None:
    call_id, path, original = closed_recording(index, session_factory, rec_settings, 1.0)
    assert index.finish(call_id, wait_seconds=0)
    path.write_bytes(original)  # the file as the centre kept it before sealing existed
    message = tmp_path / "messages/2025/01/02/m.wav"
    write_wav(message, 0.5)
    message_audio = message.read_bytes()
    os.utime(message, (time.time() - 600, time.time() - 600))

    env = {
        "CC_DATABASE_URL": rec_settings.database_url,
        "CC_RECORDINGS_DIR": str(tmp_path),
        "CC_ASTERISK_RECORDINGS_DIR": "/rec",
    }
    result = run_cli(env, "recordings", "seal")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 call recordings and 1 messages sealed" in result.stdout
    master = master_key(rec_settings)
    assert SealedReader(path, master).read_all() == original
    assert SealedReader(message, master).read_all() == message_audio
    assert get(session_factory, call_id).sha256 == hashlib.sha256(original).hexdigest()
    again = run_cli(env, "recordings", "seal")
    assert "0 call recordings and 0 messages sealed" in again.stdout
