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
    mail: str = ""  # "已发送 2，失败 1" ("" when the edition is mailed to nobody)


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
) -> int | None:
    """Store an edition; its id, or None when this period's edition in this format is stored
    already (a second run of the job, or another worker's at the same moment)."""
    return session.execute(
        text(
            "INSERT INTO report_archives (kind, period_start, period_end, fmt, filename, "
            "content, created_at) VALUES (:kind, :start, :end, :fmt, :name, :content, now()) "
            "ON CONFLICT (kind, period_start, fmt) DO NOTHING RETURNING id"
        ),
        {
            "kind": kind,
            "start": period[0],
            "end": period[1],
            "fmt": fmt,
            "name": filename[:128],
            "content": content,
        },
    ).scalar_one_or_none()


def archived_reports(
    session: Session, tz_name: str, kind: str | None = None
) -> list[ArchivedReport]:
    """The newest archived files first (of one ``kind`` if given), times in the local zone
    ``tz_name``, each with how its e-mailing went."""
    rows = session.execute(
        text(
            "SELECT a.id, a.kind, a.period_start AT TIME ZONE :tz, a.fmt, a.filename, "
            "a.created_at AT TIME ZONE :tz, m.sent, m.queued, m.failed FROM report_archives a "
            "LEFT JOIN LATERAL (SELECT count(*) FILTER (WHERE status = 'sent') AS sent, "
            "count(*) FILTER (WHERE status = 'queued') AS queued, "
            "count(*) FILTER (WHERE status = 'failed') AS failed "
            "FROM report_mailings WHERE archive_id = a.id) m ON true "
            "WHERE CAST(:kind AS text) IS NULL OR a.kind = :kind "
            "ORDER BY a.created_at DESC, a.id DESC LIMIT :limit"
        ),
        {"tz": tz_name, "limit": LISTED, "kind": kind},
    )
    return [
        ArchivedReport(a_id, a_kind, start, fmt, name, created, _mail_status(sent, queued, failed))
        for a_id, a_kind, start, fmt, name, created, sent, queued, failed in rows
    ]


def _mail_status(sent: int, queued: int, failed: int) -> str:
    parts = [(sent, "已发送"), (queued, "待发送"), (failed, "发送失败")]
    return "，".join(f"{label} {n}" for n, label in parts if n)


def archived_file(session: Session, archive_id: int) -> ArchivedFile:
    row = session.execute(
        text("SELECT fmt, filename, content FROM report_archives WHERE id = :id"),
        {"id": archive_id},
    ).first()
    if row is None:
        raise NotFound("没有这份报表", code="no-such-report")
    fmt, filename, content = row
    return ArchivedFile(fmt, filename, bytes(content))
