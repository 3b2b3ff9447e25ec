"""A notification delivery as e-mail (shared/backbone/mail.py sends it): its Message-ID derived
from the delivery id, and the delivery and occurrence in headers a mail rule can sort by."""

from shared.backbone.mail import SmtpServer, message, send


async def send_mail(server: SmtpServer, delivery) -> None:
    await send(server, message(server, message_id=f"{delivery.delivery_id}@clm-platform", address=delivery.address,
                               subject=delivery.subject, body=delivery.body,
                               headers={"X-CLM-Delivery-Id": str(delivery.delivery_id),
                                        "X-CLM-Occurrence": delivery.occurrence_key}))
