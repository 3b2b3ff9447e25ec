"""Signing mail over SMTP (aiosmtplib): one message per outbox row, its Message-ID derived from the
row's id, so a resend after a crash between sending and marking it sent can be told from a new mail."""

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from uuid import UUID

import aiosmtplib


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    sender: str = "clm-platform@localhost"
    timeout: float = 30.0


async def send_mail(server: SmtpServer, *, mail_id: UUID, address: str, subject: str, body: str) -> None:
    """Raises on any refusal or transport error (aiosmtplib.SMTPException, OSError)."""
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = server.sender, address, subject
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = f"<{mail_id}@clm-signature>"
    mail.set_content(body)
    await aiosmtplib.send(mail, hostname=server.host, port=server.port, username=server.username,
                          password=server.password, start_tls=server.starttls, timeout=server.timeout)
