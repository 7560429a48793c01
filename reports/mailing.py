"""E-mailing the scheduled report editions (``report_mailings``), an outbox.

A mailing per (edition, recipient) is queued in the transaction that stores the edition, so
an edition is never kept without its mailings nor mailed without being kept. The sender takes
due mailings one by one (``FOR UPDATE SKIP LOCKED``: two workers never send the same one),
and on a failure keeps the server's reason, waits longer each time and tries again; after the
last attempt the mailing is ``failed``, logged as an error and listed on the archive page.
Nothing is dropped silently."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from backend.db import transaction
from backend.mail import Attachment, MailError, build_message
from backend.settings.mail import MailSettings

log = logging.getLogger(__name__)

MIME_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
}
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=2)
BATCH = 50


@dataclass(frozen=True)
class MailingResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0


def queue_mailings(session: Session, archive_id: int, recipients: list[str]) -> None:
    """Queue the edition for each recipient (in the caller's transaction)."""
    for recipient in recipients:
        session.execute(
            text(
                "INSERT INTO report_mailings (archive_id, recipient, status, attempts, "
                "next_attempt_at, created_at) VALUES (:a, :r, 'queued', 0, now(), now()) "
                "ON CONFLICT (archive_id, recipient) DO NOTHING"
            ),
            {"a": archive_id, "r": recipient},
        )


def retry_delay(attempts: int) -> timedelta:
    """1, 2, 4, ... minutes after the ``attempts``-th failure, at most two hours."""
    return min(FIRST_RETRY * 2 ** (attempts - 1), LONGEST_RETRY)


def send_due_mailings(
    factory: sessionmaker[Session],
    settings: MailSettings,
    now: datetime,
    send: Callable[[MailSettings, EmailMessage], None],
) -> MailingResult:
    """Send every mailing due at ``now``, each in a transaction of its own."""
    result = MailingResult()
    for _ in range(BATCH):
        with transaction(factory) as session:
            outcome = _send_next(session, settings, now, send)
        if outcome is None:
            break
        result = MailingResult(
            result.sent + (outcome == "sent"),
            result.retried + (outcome == "queued"),
            result.failed + (outcome == "failed"),
        )
    return result


def _send_next(
    session: Session,
    settings: MailSettings,
    now: datetime,
    send: Callable[[MailSettings, EmailMessage], None],
) -> str | None:
    row = session.execute(
        text(
            "SELECT m.id, m.recipient, m.attempts, a.filename, a.fmt, a.content "
            "FROM report_mailings m JOIN report_archives a ON a.id = m.archive_id "
            "WHERE m.status = 'queued' AND m.next_attempt_at <= :now "
            "ORDER BY m.next_attempt_at, m.id LIMIT 1 FOR UPDATE OF m SKIP LOCKED"
        ),
        {"now": now},
    ).first()
    if row is None:
        return None
    mailing_id, recipient, attempts, filename, fmt, content = row
    title = filename.rsplit(".", 1)[0]
    message = build_message(
        settings,
        recipient,
        title,
        f"附件为定时生成的报表：{filename}\n本邮件由呼叫中心系统自动发送。",
        [Attachment(filename, bytes(content), MIME_TYPES.get(fmt, "application/octet-stream"))],
    )
    try:
        send(settings, message)
    except MailError as exc:
        return _record_failure(session, mailing_id, attempts + 1, str(exc), now, settings)
    session.execute(
        text(
            "UPDATE report_mailings SET status = 'sent', attempts = :n, sent_at = :now, "
            "last_error = NULL WHERE id = :id"
        ),
        {"id": mailing_id, "n": attempts + 1, "now": now},
    )
    log.info("report %s mailed to %s", filename, recipient)
    return "sent"


def _record_failure(
    session: Session, mailing_id: int, attempts: int, error: str, now: datetime,
    settings: MailSettings,
) -> str:  # fmt: skip
    status = "failed" if attempts >= settings.report_mail_attempts else "queued"
    session.execute(
        text(
            "UPDATE report_mailings SET status = :status, attempts = :n, last_error = :error, "
            "next_attempt_at = :next WHERE id = :id"
        ),
        {
            "id": mailing_id,
            "status": status,
            "n": attempts,
            "error": error[:300],
            "next": now + retry_delay(attempts),
        },
    )
    if status == "failed":
        log.error(
            "report mailing %s failed for good after %d attempts: %s", mailing_id, attempts, error
        )
    else:
        log.warning(
            "report mailing %s failed (attempt %d), retrying: %s", mailing_id, attempts, error
        )
    return status
