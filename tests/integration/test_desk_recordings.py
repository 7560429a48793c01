"""Recordings: search within the team, in-page playback with HTTP Range, download, audit."""

from __future__ import annotations

import uuid
from pathlib import Path

import redis
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agent_desk.app import create_app
from backend.db import transaction
from backend.models.audit import AuditRecord
from backend.models.calls import Disposition, Line, Recording, RecordingStatus
from backend.models.users import Role
from backend.settings import Settings
from tests.desk_support import LOCAL, desk_settings, login, make_user, open_call


def test_supervisor_searches_plays_ranges_and_downloads_a_team_recording(
    settings: Settings,
    redis_namespace: str,
    session_factory: sessionmaker[Session],
    redis_client: redis.Redis,
    tmp_path: Path,
) -> None:
    team = f"组{uuid.uuid4().hex[:6]}"
    agent = make_user(session_factory, Role.AGENT, team=team)
    boss = make_user(session_factory, Role.SUPERVISOR, team=team)
    stranger = make_user(session_factory, Role.SUPERVISOR, team="别的组")
    call_id = f"rec-{uuid.uuid4().hex[:8]}"
    relative = f"2026/11/25/{call_id}.wav"
    audio = bytes(range(256)) * 40  # 10240 bytes stand in for a WAV file
    (tmp_path / relative).parent.mkdir(parents=True)
    (tmp_path / relative).write_bytes(audio)
    with transaction(session_factory) as db:
        rec = Recording(
            call_id=call_id,
            path=relative,
            status=RecordingStatus.COMPLETE,
            agent_id=None,  # indexed at call start; only the call record knows the agent
            line="114",
            duration_seconds=12.5,
            size_bytes=len(audio),
        )
        db.add(rec)
        db.flush()
        rec_id = rec.id
    caller = f"139{uuid.uuid4().int % 10**4:04d}2222"
    open_call(session_factory, settings, call_id, Line.APPOINTMENT_114, caller,
              agent_id=agent.agent_id, disposition=Disposition.ANSWERED, wrapup_code="booked",
              recording_id=rec_id)  # fmt: skip
    app = create_app(
        desk_settings(settings, redis_namespace, recordings_dir=tmp_path),
        session_factory=session_factory,
        redis_client=redis_client,
    )
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
        download = client.get(url, params={"download": "true"})
        assert download.headers["content-disposition"].startswith("attachment")
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
