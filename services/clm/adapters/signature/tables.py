"""Signature's tables (not domain history: a credential, mail to send, provider receipts).

- signing_tokens: one row per one-time link, only the SHA-256 of the token kept; a link works
  until it expires, is used, or a fresh one for the same signer replaces it (revoked_at).
- signature_mail: the outbox of signing mails, written in the transaction that issues the link,
  sent after it by the send loop; the body (which holds the link) is erased once sent.
- provider_receipts: each provider event once (provider, its event id), with the body's digest."""

import datetime as dt
import hashlib
from uuid import UUID, uuid4

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

metadata = sa.MetaData()

signing_tokens = sa.Table(
    "signing_tokens", metadata,
    sa.Column("token_hash", sa.Text, primary_key=True),
    sa.Column("contract_id", sa.Uuid, nullable=False),
    sa.Column("envelope_id", sa.Uuid, nullable=False),
    sa.Column("signer_id", sa.Uuid, nullable=False),
    sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("used_at", sa.DateTime(timezone=True)),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
    sa.Index("signing_tokens_signer", "envelope_id", "signer_id"),
)

signature_mail = sa.Table(
    "signature_mail", metadata,
    sa.Column("mail_id", sa.Uuid, primary_key=True),
    sa.Column("address", sa.Text, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("body", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.Text),
    sa.Column("sent_at", sa.DateTime(timezone=True)),
    sa.Index("signature_mail_pending", "created_at", postgresql_where=sa.text("sent_at IS NULL")),
)

provider_receipts = sa.Table(
    "provider_receipts", metadata,
    sa.Column("provider", sa.Text, primary_key=True),
    sa.Column("provider_event_id", sa.Text, primary_key=True),
    sa.Column("digest", sa.Text, nullable=False),
    sa.Column("contract_id", sa.Uuid),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_token(conn: AsyncConnection, token: str, *, contract_id: UUID, envelope_id: UUID, signer_id: UUID,
                      at: dt.datetime, expires_at: dt.datetime) -> None:
    """A new link for the signer; their earlier links stop working."""
    await conn.execute(signing_tokens.update().where(
        signing_tokens.c.envelope_id == envelope_id, signing_tokens.c.signer_id == signer_id,
        signing_tokens.c.revoked_at.is_(None), signing_tokens.c.used_at.is_(None)).values(revoked_at=at))
    await conn.execute(signing_tokens.insert().values(
        token_hash=token_hash(token), contract_id=contract_id, envelope_id=envelope_id, signer_id=signer_id,
        issued_at=at, expires_at=expires_at))


async def token_row(conn: AsyncConnection, token: str, *, lock: bool = False):
    query = sa.select(signing_tokens).where(signing_tokens.c.token_hash == token_hash(token))
    return (await conn.execute(query.with_for_update() if lock else query)).first()


async def use_token(conn: AsyncConnection, token: str, at: dt.datetime) -> None:
    await conn.execute(signing_tokens.update().where(signing_tokens.c.token_hash == token_hash(token)).values(used_at=at))


async def queue_mail(conn: AsyncConnection, *, address: str, subject: str, body: str, at: dt.datetime) -> UUID:
    mail_id = uuid4()
    await conn.execute(signature_mail.insert().values(mail_id=mail_id, address=address, subject=subject, body=body,
                                                      created_at=at, attempts=0))
    return mail_id


async def claim_mail(conn: AsyncConnection, limit: int = 20) -> list:
    """Unsent mails, locked (another replica skips them)."""
    return list((await conn.execute(
        sa.select(signature_mail).where(signature_mail.c.sent_at.is_(None), signature_mail.c.attempts < 10)
        .order_by(signature_mail.c.created_at).limit(limit).with_for_update(skip_locked=True))).all())


async def mark_sent(conn: AsyncConnection, mail_id: UUID, at: dt.datetime) -> None:
    await conn.execute(signature_mail.update().where(signature_mail.c.mail_id == mail_id).values(
        sent_at=at, body=None, attempts=signature_mail.c.attempts + 1))


async def mark_failed(conn: AsyncConnection, mail_id: UUID, error: str) -> None:
    await conn.execute(signature_mail.update().where(signature_mail.c.mail_id == mail_id).values(
        last_error=error[:2000], attempts=signature_mail.c.attempts + 1))


async def receive_once(conn: AsyncConnection, provider: str, event_id: str, body: bytes, at: dt.datetime,
                       contract_id: UUID | None = None) -> bool:
    """True the first time this provider event is received; False for a replay."""
    inserted = await conn.execute(insert(provider_receipts).values(
        provider=provider, provider_event_id=event_id, digest=hashlib.sha256(body).hexdigest(),
        contract_id=contract_id, received_at=at).on_conflict_do_nothing())
    return inserted.rowcount == 1


provider_envelopes = sa.Table(
    "provider_envelopes", metadata,
    sa.Column("provider", sa.Text, primary_key=True),
    sa.Column("provider_envelope_id", sa.Text, primary_key=True),
    sa.Column("contract_id", sa.Uuid, nullable=False),
    sa.Column("envelope_id", sa.Uuid, nullable=False),
)


async def remember_provider_envelope(conn: AsyncConnection, provider: str, provider_envelope_id: str,
                                     contract_id: UUID, envelope_id: UUID) -> None:
    await conn.execute(provider_envelopes.insert().values(
        provider=provider, provider_envelope_id=provider_envelope_id, contract_id=contract_id, envelope_id=envelope_id))


async def provider_envelope(conn: AsyncConnection, provider: str, provider_envelope_id: str):
    return (await conn.execute(sa.select(provider_envelopes).where(
        provider_envelopes.c.provider == provider,
        provider_envelopes.c.provider_envelope_id == provider_envelope_id))).first()
