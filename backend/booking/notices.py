"""What callers and citizens are told about hospitals, as administrators edit it: a
hospital's details and booking notes, and announcements (platform-wide or per hospital).

Every change is audited in the same transaction; the caller commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.audit import Actor, record_audit
from backend.errors import NotFound
from backend.models.booking import Announcement, Hospital

ANNOUNCEMENTS_LISTED = 200


@dataclass(frozen=True)
class AnnouncementDraft:
    title: str
    body: str
    hospital_id: int | None = None  # None: platform-wide
    expires_at: datetime | None = None


def list_hospitals(session: Session) -> list[Hospital]:
    return list(session.scalars(select(Hospital).order_by(Hospital.name, Hospital.id)))


def update_hospital(
    session: Session, hospital_id: int, changes: Mapping[str, Any], actor: Actor, now: datetime
) -> Hospital:
    """``changes``: the hospital's columns to set (name, address, phone, booking_notes...)."""
    hospital = session.get(Hospital, hospital_id, with_for_update=True)
    if hospital is None:
        raise NotFound("没有这家医院")
    for name, value in changes.items():
        setattr(hospital, name, value)
    fields = {"fields": sorted(changes)}
    record_audit(session, actor, "admin.hospital_update", f"hospital:{hospital_id}", now, fields)
    session.flush()
    return hospital


def list_announcements(session: Session) -> list[Announcement]:
    """The latest announcements, expired ones included."""
    query = (
        select(Announcement)
        .order_by(Announcement.published_at.desc(), Announcement.id.desc())
        .limit(ANNOUNCEMENTS_LISTED)
    )
    return list(session.scalars(query))


def publish_announcement(
    session: Session, draft: AnnouncementDraft, actor: Actor, now: datetime
) -> Announcement:
    if draft.hospital_id is not None and session.get(Hospital, draft.hospital_id) is None:
        raise NotFound("没有这家医院")
    notice = Announcement(
        hospital_id=draft.hospital_id,
        title=draft.title,
        body=draft.body,
        published_at=now,
        expires_at=draft.expires_at,
    )
    session.add(notice)
    session.flush()
    record_audit(session, actor, "admin.announcement_create", f"announcement:{notice.id}", now)
    return notice


def withdraw_announcement(
    session: Session, announcement_id: int, actor: Actor, now: datetime
) -> Announcement:
    notice = session.get(Announcement, announcement_id, with_for_update=True)
    if notice is None:
        raise NotFound("没有这条公告")
    notice.expires_at = now
    target = f"announcement:{notice.id}"
    record_audit(session, actor, "admin.announcement_withdraw", target, now)
    session.flush()
    return notice
