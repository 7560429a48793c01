"""Scheduled report editions e-mailed through a real SMTP server (aiosmtpd on a loopback
port, started here): queued with the edition, delivered with the file attached, retried while
the server is away, and marked failed (and logged) after the last attempt, never dropped."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope
from celery import Celery
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from backend.booking.rules import BookingRules
from backend.db import transaction
from backend.mail import send_message
from backend.settings import Settings
from backend.worker_resources import WorkerResources
from reports.mailing import queue_mailings, send_due_mailings
from reports.tasks import SEND_MAIL, generate_due_reports, register_report_tasks
from tests.conftest import free_port

TZ = BookingRules().tz
RECIPIENTS = ["finance@example.org", "wjw-billing@example.org"]


class Inbox:
    """aiosmtpd's handler: keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: object, session: object, envelope: Envelope) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else b""
        parsed = message_from_bytes(content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"


@pytest.fixture()
def port() -> int:
    return free_port()


def start_server(port: int) -> tuple[Controller, Inbox]:
    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    return server, inbox


@pytest.fixture()
def mail_settings(settings: Settings, port: int) -> Iterator[Settings]:
    yield settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_timeout_seconds": 10.0,
            "report_mail_to": ",".join(RECIPIENTS),
        }
    )


def _mailings(factory: sessionmaker[Session], kind: str) -> list[tuple[str, str, int, str]]:
    with factory() as session:
        rows = session.execute(
            text(
                "SELECT m.recipient, m.status, m.attempts, coalesce(m.last_error, '') "
                "FROM report_mailings m JOIN report_archives a ON a.id = m.archive_id "
                "WHERE a.kind = :kind AND a.period_start = :start ORDER BY m.id"
            ),
            {"kind": kind, "start": datetime(2035, 2, 1, tzinfo=TZ)},
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def test_editions_are_mailed_with_their_file_after_the_server_comes_back(
    mail_settings: Settings,
    session_factory: sessionmaker[Session],
    port: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with session_factory() as session:
        made = generate_due_reports(
            session, date(2035, 3, 1), BookingRules(), mail_settings.report_recipients
        )
    assert "114预约挂号服务月度确认单_2035-02-01_2035-02-28.pdf" in made
    # The server is not there yet: every mailing fails, is kept with the reason, and waits.
    now = datetime(2035, 3, 1, 2, tzinfo=UTC)
    with caplog.at_level(logging.WARNING, logger="reports.mailing"):
        result = send_due_mailings(session_factory, mail_settings, now, send_message)
    assert result.sent == 0 and result.retried == 2 * len(made)
    sheet = _mailings(session_factory, "confirmation_sheet")
    assert len(sheet) == 4 and all(s == "queued" and n == 1 for _, s, n, _ in sheet)
    assert all("ConnectionRefused" in error for *_, error in sheet)
    assert "retrying" in caplog.text

    server, inbox = start_server(port)
    try:
        # Not due yet: nothing is sent before the retry delay has passed.
        assert send_due_mailings(session_factory, mail_settings, now, send_message).sent == 0
        # The worker's retry task, a minute later.
        later = (now + timedelta(minutes=1)).timestamp()
        app = Celery("mail-test", set_as_current=False)
        register_report_tasks(
            app, WorkerResources(mail_settings, session_factory, now=lambda: later)
        )
        assert app.tasks[SEND_MAIL].run() == {"sent": 2 * len(made), "retried": 0, "failed": 0}
    finally:
        server.stop()
    assert {s for _, s, _, _ in _mailings(session_factory, "confirmation_sheet")} == {"sent"}
    pdfs = [
        (to, m)
        for to, m in inbox.messages
        if "114预约挂号服务月度确认单" in str(m["Subject"])
        and any(str(p.get_filename()).endswith(".pdf") for p in m.iter_attachments())
    ]
    assert sorted(to for to, _ in pdfs) == [[r] for r in sorted(RECIPIENTS)]
    attachment = next(pdfs[0][1].iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    with session_factory() as session:
        stored = session.execute(
            text(
                "SELECT content FROM report_archives WHERE kind = 'confirmation_sheet' "
                "AND fmt = 'pdf' AND period_start = :s"
            ),
            {"s": datetime(2035, 2, 1, tzinfo=TZ)},
        ).scalar_one()
    assert attachment.get_content() == bytes(stored)


def test_a_mailing_that_never_gets_through_is_marked_failed_and_logged(
    mail_settings: Settings,
    session_factory: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
) -> None:
    once = mail_settings.model_copy(update={"report_mail_attempts": 2})
    with session_factory() as session:
        archive_id = session.execute(text("SELECT max(id) FROM report_archives")).scalar_one()
    assert archive_id is not None
    with transaction(session_factory) as session:
        queue_mailings(session, archive_id, ["nobody@example.org"])
        queue_mailings(session, archive_id, ["nobody@example.org"])  # queued once only
    now = datetime.now(UTC)
    with caplog.at_level(logging.WARNING, logger="reports.mailing"):
        first = send_due_mailings(session_factory, once, now, send_message)
        second = send_due_mailings(session_factory, once, now + timedelta(hours=3), send_message)
    assert (first.retried, second.failed) == (1, 1)
    with session_factory() as session:
        status, attempts, error = session.execute(
            text(
                "SELECT status, attempts, last_error FROM report_mailings "
                "WHERE archive_id = :a AND recipient = 'nobody@example.org'"
            ),
            {"a": archive_id},
        ).one()
    assert (status, attempts) == ("failed", 2) and "ConnectionRefused" in error
    assert any(
        r.levelno == logging.ERROR and "failed for good" in r.message for r in caplog.records
    )
