"""Recordings: search within the team, in-page playback with HTTP Range, download, audit."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agent_desk.app import create_app
from backend.models.audit import AuditRecord
from backend.models.calls import Disposition, Line
from backend.models.users import Role
from backend.settings import Settings
from tests.desk_support import LOCAL, desk_settings, login, make_user, open_call
from tests.recording_support import recorded_call


@pytest.fixture()
def recordings_app(
    settings: Settings,
    redis_namespace: str,
    session_factory: sessionmaker[Session],
    redis_client: redis.Redis,
    tmp_path: Path,
) -> FastAPI:
    """The desk whose recordings folder is ``tmp_path``."""
    return create_app(
        desk_settings(settings, redis_namespace, recordings_dir=tmp_path),
        session_factory=session_factory,
        redis_client=redis_client,
    )


def test_supervisor_searches_plays_ranges_and_downloads_a_team_recording(
    recordings_app: FastAPI,
    settings: Settings,
    session_factory: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    team = f"组{uuid.uuid4().hex[:6]}"
    agent = make_user(session_factory, Role.AGENT, team=team)
    boss = make_user(session_factory, Role.SUPERVISOR, team=team)
    stranger = make_user(session_factory, Role.SUPERVISOR, team="别的组")
    call_id = f"rec-{uuid.uuid4().hex[:8]}"
    rec_id, audio = recorded_call(session_factory, settings, tmp_path, call_id)
    # An attacker reading the spool finds no WAV header and none of the audio.
    on_disk = (tmp_path / f"2026/11/25/{call_id}.wav").read_bytes()
    assert b"RIFF" not in on_disk and audio[1000:1064] not in on_disk
    caller = f"139{uuid.uuid4().int % 10**4:04d}2222"
    open_call(session_factory, settings, call_id, Line.APPOINTMENT_114, caller,
              agent_id=agent.agent_id, disposition=Disposition.ANSWERED, wrapup_code="booked",
              recording_id=rec_id)  # fmt: skip
    app = recordings_app
    with TestClient(app, client=LOCAL) as client:
        login(client, boss)
        found = client.get(
            "/api/recordings", params={"agent": agent.agent_number, "wrapup": "booked"}
        ).json()
        assert [(r["id"], r["caller_number"]) for r in found] == [(rec_id, "139****2222")]
        # By the caller's full number (as a supervisor types it), never by its shared mask.
        by_number = client.get("/api/recordings", params={"caller_number": caller}).json()
        assert [r["id"] for r in by_number] == [rec_id]
        masked = client.get("/api/recordings", params={"caller_number": "139****2222"}).json()
        other = f"139{(int(caller[3:7]) + 1) % 10**4:04d}2222"  # the same mask, not the caller
        namesake = client.get("/api/recordings", params={"caller_number": other}).json()
        assert masked == [] and rec_id not in [r["id"] for r in namesake]
        # The wrap-up and the call's ending are separate filters ("answered" is in both).
        by_agent = {"agent": agent.agent_number}
        ended = client.get("/api/recordings", params=by_agent | {"disposition": "answered"})
        assert [r["id"] for r in ended.json()] == [rec_id]
        for other_filter in ({"wrapup": "answered"}, {"disposition": "booked"}):
            assert client.get("/api/recordings", params=by_agent | other_filter).json() == []
        url = f"/api/recordings/{rec_id}/audio"
        whole = client.get(url)
        assert whole.status_code == 200 and whole.content == audio
        assert whole.headers["accept-ranges"] == "bytes"
        part = client.get(url, headers={"Range": "bytes=100-199"})
        assert part.status_code == 206 and part.content == audio[100:200]
        assert part.headers["content-range"] == f"bytes 100-199/{len(audio)}"
        tail = client.get(url, headers={"Range": "bytes=-10"})
        assert tail.status_code == 206 and tail.content == audio[-10:]
        assert client.get(url, headers={"Range": "bytes=99999-"}).status_code == 416
        across = client.get(url, headers={"Range": "bytes=65000-70000"})  # two sealed chunks
        assert across.status_code == 206 and across.content == audio[65000:70001]
        download = client.get(url, params={"download": "true"})
        assert download.headers["content-disposition"].startswith("attachment")
        assert download.content == audio
    with TestClient(app, client=LOCAL) as other:
        login(other, stranger)
        assert other.get("/api/recordings", params={"agent": agent.agent_number}).json() == []
        assert other.get(f"/api/recordings/{rec_id}/audio").status_code == 404
    with session_factory() as db:
        trail = db.scalars(
            select(AuditRecord.action)
            .where(AuditRecord.actor == boss.username, AuditRecord.action.like("recording.%"))
            .order_by(AuditRecord.id)
        ).all()
    assert trail.count("recording.search") == 7  # every search above is on the trail
    assert trail.count("recording.play") >= 3 and trail.count("recording.download") == 1


def test_a_tampered_recording_is_refused_with_a_clear_error_and_audited(
    recordings_app: FastAPI,
    settings: Settings,
    session_factory: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    auditor = make_user(session_factory, Role.AUDITOR)
    agent = make_user(session_factory, Role.AGENT)
    call_id = f"rec-{uuid.uuid4().hex[:8]}"
    rec_id, _ = recorded_call(session_factory, settings, tmp_path, call_id)
    open_call(session_factory, settings, call_id, Line.APPOINTMENT_114, "13800138000",
              recording_id=rec_id)  # fmt: skip
    app = recordings_app
    url = f"/api/recordings/{rec_id}/audio"
    with TestClient(app, client=LOCAL) as client:
        login(client, agent)  # an agent may not play recordings at all
        assert client.get(url).status_code == 403
    file = tmp_path / f"2026/11/25/{call_id}.wav"
    sealed = bytearray(file.read_bytes())
    sealed[-100] ^= 0x01  # one bit of the last chunk's audio
    file.write_bytes(bytes(sealed))
    with TestClient(app, client=LOCAL) as client:
        login(client, auditor)
        start = client.get(url, headers={"Range": "bytes=0-99"})
        assert start.status_code == 206  # the chunk that covers it is intact
        refused = client.get(url)
        assert refused.status_code == 409
        assert refused.json()["error"] == "recording-tampered"
        assert "校验失败" in refused.json()["message"]
    with session_factory() as db:
        refusal = db.scalars(
            select(AuditRecord).where(
                AuditRecord.actor == auditor.username, AuditRecord.action == "recording.refused"
            )
        ).one()
    assert refusal.details == {"reason": "tampered"}
