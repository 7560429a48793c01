"""What callers and citizens are told about hospitals, as administrators edit it: a
hospital's details and booking notes, and announcements (platform-wide or per hospital), and
the announcements the public is shown.

Every change is audited in the same transaction; the caller commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from backend.audit import Actor, record_audit
from backend.booking.views import AnnouncementView
from backend.errors import NotFound
from backend.models.booking import Announcement, Hospital

ANNOUNCEMENTS_LISTED = 200  # to administrators
ANNOUNCEMENTS_SHOWN = 50  # to the public


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


def _newest_first(limit: int) -> Select[Announcement]:
    return (
        select(Announcement)
        .order_by(Announcement.published_at.desc(), Announcement.id.desc())
        .limit(limit)
    )


def list_announcements(session: Session) -> list[Announcement]:
    """The latest announcements, expired ones included."""
    return list(session.scalars(_newest_first(ANNOUNCEMENTS_LISTED)))


def announcements_in_force(
    session: Session, now: datetime, hospital_id: int | None = None
) -> list[AnnouncementView]:
    """What the public is shown at ``now``, newest first: the platform-wide announcements,
    and with ``hospital_id`` that hospital's too; a withdrawn one has expired."""
    query = _newest_first(ANNOUNCEMENTS_SHOWN).where(
        or_(Announcement.expires_at.is_(None), Announcement.expires_at > now)
    )
    if hospital_id is not None:
        query = query.where(
            or_(Announcement.hospital_id == hospital_id, Announcement.hospital_id.is_(None))
        )
    return [
        AnnouncementView(
            id=a.id,
            hospital_id=a.hospital_id,
            title=a.title,
            body=a.body,
            published_at=a.published_at,
        )
        for a in session.scalars(query)
    ]


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
