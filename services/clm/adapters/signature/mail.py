"""Signing mail (shared/backbone/mail.py sends it): one message per outbox row, its Message-ID
derived from the row's id."""

from uuid import UUID

from shared.backbone.mail import SmtpServer, message, send


async def send_mail(server: SmtpServer, *, mail_id: UUID, address: str, subject: str, body: str) -> None:
    await send(server, message(server, message_id=f"{mail_id}@clm-signature", address=address, subject=subject,
                               body=body))
