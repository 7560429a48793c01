"""The archive of generated report files (``report_archives``): kept by the periodic job,
listed and served by the report pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from backend.errors import NotFound

LISTED = 500


@dataclass(frozen=True)
class ArchivedReport:
    id: int
    kind: str  # "halfyear_114", "service_monthly", ...
    period_start: datetime  # local, naive
    fmt: str  # "pdf", "xlsx", "csv"
    filename: str
    created_at: datetime  # local, naive


@dataclass(frozen=True)
class ArchivedFile:
    fmt: str
    filename: str
    content: bytes


def is_archived(session: Session, kind: str, period_start: datetime, fmt: str) -> bool:
    found = session.execute(
        text(
            "SELECT 1 FROM report_archives WHERE kind = :kind AND period_start = :start "
            "AND fmt = :fmt"
        ),
        {"kind": kind, "start": period_start, "fmt": fmt},
    ).first()
    return found is not None


def archive(
    session: Session,
    kind: str,
    period: tuple[datetime, datetime],
    fmt: str,
    filename: str,
    content: bytes,
) -> None:
    session.execute(
        text(
            "INSERT INTO report_archives (kind, period_start, period_end, fmt, filename, "
            "content, created_at) VALUES (:kind, :start, :end, :fmt, :name, :content, now())"
        ),
        {
            "kind": kind,
            "start": period[0],
            "end": period[1],
            "fmt": fmt,
            "name": filename[:128],
            "content": content,
        },
    )


def archived_reports(session: Session, tz_name: str) -> list[ArchivedReport]:
    """The newest archived files first, times in the local zone ``tz_name``."""
    rows = session.execute(
        text(
            "SELECT id, kind, period_start AT TIME ZONE :tz, fmt, filename, "
            "created_at AT TIME ZONE :tz FROM report_archives "
            "ORDER BY created_at DESC, id DESC LIMIT :limit"
        ),
        {"tz": tz_name, "limit": LISTED},
    )
    return [ArchivedReport(*row) for row in rows]


def archived_file(session: Session, archive_id: int) -> ArchivedFile:
    row = session.execute(
        text("SELECT fmt, filename, content FROM report_archives WHERE id = :id"),
        {"id": archive_id},
    ).first()
    if row is None:
        raise NotFound("没有这份报表", code="no-such-report")
    fmt, filename, content = row
    return ArchivedFile(fmt, filename, bytes(content))
