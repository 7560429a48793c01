"""Sending one e-mail with attachments over SMTP (``smtplib``), as the mail settings say.

Every failure (refused connection, TLS, authentication, a recipient refused, a timeout)
comes out as ``MailError`` with the server's reason, for the caller to retry and log."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage

from backend.settings.mail import MailSettings


class MailError(Exception):
    """The message was not accepted by the SMTP server; ``str()`` says why."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str  # "application/pdf"


def build_message(
    settings: MailSettings, to: str, subject: str, body: str, attachments: list[Attachment]
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    for item in attachments:
        maintype, _, subtype = item.mime_type.partition("/")
        message.add_attachment(
            item.content, maintype=maintype, subtype=subtype, filename=item.filename
        )
    return message


def send_message(settings: MailSettings, message: EmailMessage) -> None:
    timeout = settings.smtp_timeout_seconds
    try:
        if settings.smtp_security == "ssl":
            context = ssl.create_default_context()
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.smtp_host, settings.smtp_port, timeout=timeout, context=context
            )
        else:
            client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
        with client:
            if settings.smtp_security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                client.login(settings.smtp_user, settings.smtp_password.get_secret_value())
            client.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError(f"{type(exc).__name__}: {exc}") from exc
