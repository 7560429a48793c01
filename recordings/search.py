"""Finding recordings: by day, agent, caller, line, how the call ended and the agent's wrap-up;
optionally only those of one team's agents (a team leader sees the own team's).

A caller is found by the keyed hash of the number (the stored number is only a mask, shared
by many callers): the caller of ``search`` passes the hash, never the number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from backend.errors import Conflict, NotFound
from backend.models.agents import Agent
from backend.models.calls import CallRecord, Recording, RecordingStatus

SelectT = TypeVar("SelectT", bound=Select)
PLAYABLE = (RecordingStatus.COMPLETE, RecordingStatus.REPAIRED)


class RecordingNotReady(Conflict):
    code = "recording-not-ready"


@dataclass(frozen=True)
class RecordingFilters:
    date_from: date | None = None
    date_to: date | None = None
    agent: str = ""  # the agent's number (工号)
    caller_hash: str = ""  # the keyed hash of the caller's normalised number
    line: str = ""
    # Two filters, because the two vocabularies share words: wrap-up "answered" is 已解答
    # (the agent answered the question), disposition "answered" is 已接通.
    disposition: str = ""
    wrapup: str = ""
    limit: int = 100


@dataclass(frozen=True)
class RecordingHit:
    recording: Recording
    call: CallRecord | None
    agent_number: str


def scoped(query: SelectT, team: str | None) -> SelectT:
    """Only recordings of ``team``'s agents (None: every recording)."""
    if team is None:
        return query
    team_agents = select(Agent.id).where(Agent.team == team)
    # The recording's own agent, or the agent of its call (a recording is indexed when the
    # call starts, before anybody answers, and may never have been given one).
    return query.where(
        or_(
            Recording.agent_id.in_(team_agents),
            Recording.call_id.in_(
                select(CallRecord.call_id).where(CallRecord.agent_id.in_(team_agents))
            ),
        )
    )


def search(
    db: Session, filters: RecordingFilters, team: str | None, tz: ZoneInfo
) -> list[RecordingHit]:
    """Complete (or repaired) recordings matching ``filters``, newest first; days are local."""
    query = (
        select(Recording, CallRecord, Agent.number)
        .outerjoin(CallRecord, CallRecord.call_id == Recording.call_id)
        .outerjoin(Agent, Agent.id == func.coalesce(Recording.agent_id, CallRecord.agent_id))
        .where(Recording.status.in_(PLAYABLE))
        .order_by(Recording.started_at.desc(), Recording.id.desc())
        .limit(filters.limit)
    )
    query = _filtered(scoped(query, team), filters, tz)
    return [
        RecordingHit(rec, call, number or "")
        for rec, call, number in db.execute(query).all()
        if isinstance(rec, Recording)
    ]


def _filtered(query: SelectT, f: RecordingFilters, tz: ZoneInfo) -> SelectT:
    if f.date_from:
        query = query.where(Recording.started_at >= _local_start(f.date_from, tz))
    if f.date_to:
        end = _local_start(f.date_to, tz).replace(hour=23, minute=59, second=59)
        query = query.where(Recording.started_at < end)
    if f.agent:
        query = query.where(Agent.number == f.agent)
    if f.caller_hash:
        query = query.where(CallRecord.caller_hash == f.caller_hash)
    if f.line:
        query = query.where(Recording.line == f.line)
    if f.disposition:
        query = query.where(CallRecord.disposition == f.disposition)
    if f.wrapup:
        query = query.where(CallRecord.wrapup_code == f.wrapup)
    return query


def _local_start(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tz)


def playable(db: Session, recording_id: int, team: str | None) -> Recording:
    """The recording to play: NotFound when gone (or another team's), RecordingNotReady
    while it is still being written."""
    rec = db.scalar(scoped(select(Recording).where(Recording.id == recording_id), team))
    if rec is None or rec.status in (RecordingStatus.DELETED, RecordingStatus.MISSING):
        raise NotFound("没有这条录音")
    if rec.status is RecordingStatus.RECORDING:
        raise RecordingNotReady("录音尚未完成，请稍后再试")
    return rec
