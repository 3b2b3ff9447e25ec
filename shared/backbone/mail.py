"""E-mail over SMTP (aiosmtplib), written once for every service that mails (the scheduler's
notifications, clm's signing links): the server's settings from the environment under the same
names everywhere (SMTP_HOST, SMTP_PORT, SMTP_USERNAME, SMTP_PASSWORD, SMTP_STARTTLS, SMTP_FROM),
and one send whose Message-ID the caller derives from its outbox row, so a receiver can tell a
resend (after a crash between sending and marking it sent) from a new mail."""

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib
from pydantic import BaseModel, SecretStr


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    sender: str = "clm-platform@localhost"
    timeout: float = 30.0


class SmtpSettings(BaseModel):
    """Mixed into a service's BaseSettings: the SMTP server's fields and the server they name."""

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_from: str = "clm-platform@localhost"

    def smtp(self) -> SmtpServer:
        """Without a user name (unset or empty) no login is tried: a local relay needs none."""
        login = bool(self.smtp_username)
        return SmtpServer(self.smtp_host, self.smtp_port, self.smtp_username if login else None,
                          self.smtp_password.get_secret_value() if login and self.smtp_password else None,
                          self.smtp_starttls, self.smtp_from)


def message(server: SmtpServer, *, message_id: str, address: str, subject: str, body: str,
            headers: dict[str, str] | None = None) -> EmailMessage:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = server.sender, address, subject
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = f"<{message_id}>"
    for name, value in (headers or {}).items():
        mail[name] = value
    mail.set_content(body)
    return mail


async def send(server: SmtpServer, mail: EmailMessage) -> None:
    """Raises on any refusal or transport error (aiosmtplib.SMTPException, OSError)."""
    await aiosmtplib.send(mail, hostname=server.host, port=server.port, username=server.username,
                          password=server.password, start_tls=server.starttls, timeout=server.timeout)
