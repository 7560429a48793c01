"""Recording paths stay in the recordings root. Attacks: a path handed over by AGI that
climbs out with ``..`` or names a file elsewhere is refused before anything is stored; a
symlink planted in the spool that points out is never read, completed, deleted or served
(the refused download is audited); the recordings beside it work as before."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from agent_desk.app import create_app
from backend.models.audit import AuditRecord
from backend.models.calls import Line, Recording, RecordingStatus
from backend.models.users import Role
from backend.settings import Settings
from recordings.index import RecordingIndex
from recordings.paths import RecordingPathRefused
from tests.desk_support import LOCAL, desk_settings, login, make_user, open_call
from tests.integration.test_recordings_index import write_wav

ASTERISK_ROOT = "/rec"


@pytest.fixture()
def spool(tmp_path: Path) -> Path:
    (tmp_path / "spool").mkdir()
    return tmp_path / "spool"


@pytest.fixture()
def outside(tmp_path: Path) -> Path:
    """A file outside the root that an attacker wants: a valid WAV, so only the path check
    stands between it and the index."""
    target = tmp_path / "private" / "secret.wav"
    write_wav(target, 1.0)
    return target


@pytest.fixture()
def index_settings(settings: Settings, spool: Path) -> Settings:
    return settings.model_copy(
        update={"asterisk_recordings_dir": ASTERISK_ROOT, "recordings_dir": spool}
    )


@pytest.fixture()
def index(session_factory: sessionmaker[Session], index_settings: Settings) -> RecordingIndex:
    return RecordingIndex(session_factory, index_settings)


def recorded_call(index: RecordingIndex, spool: Path, category: str = "call") -> str:
    """A call whose recording the controller registers and completes, as on a real call."""
    call_id = f"path-{uuid.uuid4().hex[:10]}"
    index.register(call_id, f"{ASTERISK_ROOT}/2026/12/01/{call_id}.wav", "114", category)
    write_wav(spool / "2026/12/01" / f"{call_id}.wav", 1.0)
    assert index.finish(call_id, wait_seconds=0)
    return call_id


def recording_of(factory: sessionmaker[Session], call_id: str) -> Recording:
    with factory() as db:
        found = db.scalar(select(Recording).where(Recording.call_id == call_id))
        assert found is not None
        return found


@pytest.mark.parametrize(
    "forged",
    [
        f"{ASTERISK_ROOT}/../etc/passwd",
        f"{ASTERISK_ROOT}/2026/../../var/lib/postgresql/x.wav",
        "/etc/passwd",
        "/recordings-elsewhere/x.wav",  # shares the root's prefix, not its directory
        f"{ASTERISK_ROOT}/",
    ],
)
def test_a_path_outside_the_root_from_agi_is_refused_and_nothing_is_stored(
    index: RecordingIndex, session_factory: sessionmaker[Session], forged: str
) -> None:
    call_id = f"forged-{uuid.uuid4().hex[:10]}"
    with pytest.raises(RecordingPathRefused) as refused:
        index.register(call_id, forged, "114")
    assert refused.value.code == "recording-path-refused"
    assert "已拒绝" in refused.value.message
    with session_factory() as db:
        stored = db.scalar(select(func.count()).where(Recording.call_id == call_id))
    assert stored == 0


def test_a_planted_symlink_out_of_the_spool_is_never_followed(
    index: RecordingIndex,
    spool: Path,
    outside: Path,
    session_factory: sessionmaker[Session],
) -> None:
    call_id = f"link-{uuid.uuid4().hex[:10]}"
    index.register(call_id, f"{ASTERISK_ROOT}/2026/12/01/{call_id}.wav", "114")
    planted = spool / "2026/12/01" / f"{call_id}.wav"
    planted.parent.mkdir(parents=True, exist_ok=True)
    planted.symlink_to(outside)

    with pytest.raises(RecordingPathRefused):
        index.file(recording_of(session_factory, call_id))
    # The valid WAV behind the link is not completed into the index...
    assert not index.finish(call_id, wait_seconds=0)
    assert recording_of(session_factory, call_id).status is RecordingStatus.RECORDING
    # ...and a directory symlink on the way out is caught as well.
    call_dir = f"dir-{uuid.uuid4().hex[:10]}"
    (spool / call_dir).symlink_to(outside.parent, target_is_directory=True)
    index.register(call_dir, f"{ASTERISK_ROOT}/{call_dir}/secret.wav", "114")
    assert not index.finish(call_dir, wait_seconds=0)
    assert recording_of(session_factory, call_dir).status is RecordingStatus.RECORDING

    # Completed recordings of a category of their own (retention looks at nothing else):
    # one stays a file, one is swapped for a link after it was indexed.
    category = f"paths-{uuid.uuid4().hex[:8]}"
    good = recorded_call(index, spool, category)
    swapped = recorded_call(index, spool, category)
    link = spool / "2026/12/01" / f"{swapped}.wav"
    link.unlink()
    link.symlink_to(outside)
    # Retention deletes the file in the spool and never deletes through the link.
    assert index.apply_retention({category: 0}).deleted == 2
    assert not (spool / "2026/12/01" / f"{good}.wav").exists()
    assert outside.exists()


def test_the_download_of_a_recording_replaced_by_a_symlink_is_refused_and_audited(
    settings: Settings,
    index: RecordingIndex,
    index_settings: Settings,
    spool: Path,
    outside: Path,
    session_factory: sessionmaker[Session],
    redis_namespace: str,
    redis_client: redis.Redis,
) -> None:
    good = recorded_call(index, spool)
    swapped = recorded_call(index, spool)
    for call_id in (good, swapped):
        open_call(session_factory, settings, call_id, Line.APPOINTMENT_114, "13800138000",
                  recording_id=recording_of(session_factory, call_id).id)  # fmt: skip
    # After it was indexed, someone with access to the spool swaps the file for a link.
    file = spool / "2026/12/01" / f"{swapped}.wav"
    file.unlink()
    file.symlink_to(outside)

    auditor = make_user(session_factory, Role.AUDITOR)
    app = create_app(
        desk_settings(index_settings, redis_namespace),
        session_factory=session_factory,
        redis_client=redis_client,
    )
    with TestClient(app, client=LOCAL) as client:
        login(client, auditor)
        swapped_id = recording_of(session_factory, swapped).id
        refused = client.get(f"/api/recordings/{swapped_id}/audio", params={"download": "true"})
        assert refused.status_code == 422
        assert refused.json()["error"] == "recording-path-refused"
        assert outside.read_bytes() not in refused.content
        served = client.get(f"/api/recordings/{recording_of(session_factory, good).id}/audio")
        assert served.status_code == 200
        # The recording as it was made (the file on disk is sealed).
        assert (
            hashlib.sha256(served.content).hexdigest() == recording_of(session_factory, good).sha256
        )
        assert served.content.startswith(b"RIFF")
    with session_factory() as db:
        trail = db.scalars(
            select(AuditRecord.action).where(
                AuditRecord.actor == auditor.username, AuditRecord.action.like("recording.%")
            )
        ).all()
    assert "recording.refused" in trail and "recording.play" in trail
    assert "recording.download" not in trail
