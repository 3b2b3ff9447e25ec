"""E-mail over SMTP (aiosmtplib): one message per delivery, its Message-ID derived from the
delivery id, so a receiver can tell a resend (after a crash between sending and marking it sent)
from a new mail."""

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

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


def message(server: SmtpServer, delivery) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = server.sender
    mail["To"] = delivery.address
    mail["Subject"] = delivery.subject
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = f"<{delivery.delivery_id}@clm-platform>"
    mail["X-CLM-Delivery-Id"] = str(delivery.delivery_id)
    mail["X-CLM-Occurrence"] = delivery.occurrence_key
    mail.set_content(delivery.body)
    return mail


async def send_mail(server: SmtpServer, delivery) -> None:
    """Raises on any refusal or transport error (aiosmtplib.SMTPException, OSError)."""
    await aiosmtplib.send(
        message(server, delivery), hostname=server.host, port=server.port, username=server.username,
        password=server.password, start_tls=server.starttls, timeout=server.timeout,
    )
