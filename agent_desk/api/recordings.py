"""Recordings for team leaders and auditors: search, play, download (HTTP Range), every access
audited. A team leader sees the own team's recordings; the permission to see every team's is
the auditors' (``Permission.RECORDINGS_ALL_TEAMS``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from agent_desk.auth.audit import audit_now
from agent_desk.auth.guard import Caller
from agent_desk.auth.permissions import Permission, allowed
from agent_desk.deps import RecordingsUser, StateDep
from agent_desk.errors import error_responses
from agent_desk.recording_audio import recording_audio
from agent_desk.state import AppState
from backend.errors import NotFound
from backend.models.users import User
from backend.personal_data import mask_phone, normalize_number
from recordings import search
from recordings.paths import RecordingPathRefused, contained
from recordings.sealed import RecordingTampered
from recordings.search import RecordingFilters, RecordingHit

router = APIRouter(tags=["班组长"], responses=error_responses(400, 401, 403, 404, 409, 422))
Text = Annotated[str, Query(max_length=16)]


class RecordingOut(BaseModel):
    id: int
    call_id: str
    started_at: str  # local time
    line: str
    agent_number: str
    caller_number: str  # masked
    duration_seconds: float
    disposition: str
    wrapup_code: str
    status: str


def team_scope(db: Session, caller: Caller) -> str | None:
    """The team whose recordings the caller may see (None: every team's)."""
    if allowed(caller.session.role, Permission.RECORDINGS_ALL_TEAMS):
        return None
    user = db.get(User, caller.session.user_id)
    return user.team if user else ""


def recording_out(hit: RecordingHit, state: AppState) -> RecordingOut:
    rec, call = hit.recording, hit.call
    return RecordingOut(
        id=rec.id,
        call_id=rec.call_id,
        started_at=rec.started_at.astimezone(state.tz).strftime("%Y-%m-%d %H:%M:%S"),
        line=rec.line,
        agent_number=hit.agent_number,
        caller_number=mask_phone(call.caller_number) if call else "",
        duration_seconds=rec.duration_seconds,
        disposition=call.disposition.value if call else "",
        wrapup_code=call.wrapup_code if call else "",
        status=rec.status.value,
    )


@router.get("/api/recordings", summary="录音查询（日期、坐席、来电号码、线路、处理结果）")
def search_recordings(
    state: StateDep,
    user: RecordingsUser,
    date_from: date | None = None,
    date_to: date | None = None,
    agent: Text = "",
    caller_number: Annotated[str, Query(max_length=32)] = "",
    line: Text = "",
    disposition: Annotated[
        str, Query(max_length=24, description="how the call ended (answered, abandoned_queue …)")
    ] = "",
    wrapup: Annotated[
        str, Query(max_length=24, description="the agent's wrap-up (booked, order …)")
    ] = "",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[RecordingOut]:
    number_hash = state.cipher.lookup_hash(normalize_number(caller_number)) if caller_number else ""
    filters = RecordingFilters(date_from, date_to, agent, number_hash, line, disposition, wrapup,
                               limit)  # fmt: skip
    with state.session_factory() as db:
        hits = search.search(db, filters, team_scope(db, user), state.tz)
    audit_now(
        state.session_factory, user.username, "recording.search", source_ip=user.ip,
        details={"agent": agent, "line": line, "disposition": disposition, "wrapup": wrapup,
                 "by_caller": bool(caller_number), "results": len(hits)},
    )  # fmt: skip
    return [recording_out(hit, state) for hit in hits]


@router.get(
    "/api/recordings/{recording_id}/audio",
    summary="播放或下载录音（支持 HTTP Range 分段请求）",
    response_class=Response,
    responses={206: {"description": "部分内容"}, 416: {"description": "范围无效"}},
)
def play_recording(
    recording_id: int,
    request: Request,
    state: StateDep,
    user: RecordingsUser,
    download: bool = False,
) -> Response:
    with state.session_factory() as db:
        rec = search.playable(db, recording_id, team_scope(db, user))
    try:
        path = contained(state.settings.effective_recordings_dir, rec.path)
    except RecordingPathRefused:
        # A row or a symlink leading out of the recordings root: an attack or a broken
        # spool; never served, and on file.
        audit_now(
            state.session_factory, user.username, "recording.refused",
            target=f"recording:{rec.id}", source_ip=user.ip,
            details={"reason": "path-outside-root"},
        )  # fmt: skip
        raise
    if not path.is_file():
        raise NotFound("录音文件不存在")
    try:
        # Decrypted as it is sent; a Range needs only the chunks that cover it.
        answer = recording_audio(
            state, path, filename=f"{rec.call_id}.wav", download=download,
            range_header=request.headers.get("range"),
        )  # fmt: skip
    except RecordingTampered:
        audit_now(
            state.session_factory, user.username, "recording.refused",
            target=f"recording:{rec.id}", source_ip=user.ip, details={"reason": "tampered"},
        )  # fmt: skip
        raise
    audit_now(
        state.session_factory, user.username, "recording.download" if download else "recording.play",
        target=f"recording:{rec.id}", source_ip=user.ip, details={"call_id": rec.call_id},
    )  # fmt: skip
    return answer
