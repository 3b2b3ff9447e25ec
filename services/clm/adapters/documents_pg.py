"""Documents in clm's own schema: the `documents` table holds every stored document's reference
(SHA-256, size, media type, file name) and, in the default store, its bytes. It is written on the
unit of work's connection, so a document and the events that point at it commit together.

A document's id follows from its SHA-256, media type and file name: storing the same file twice
stores it once.
"""

import hashlib
from uuid import NAMESPACE_URL, UUID, uuid5

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.events.documents import DocumentRef

metadata = sa.MetaData()

documents = sa.Table(
    "documents", metadata,
    sa.Column("document_id", sa.Uuid, primary_key=True),
    sa.Column("sha256", sa.Text, nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("media_type", sa.Text, nullable=False),
    sa.Column("filename", sa.Text, nullable=False),
    sa.Column("store", sa.Text, nullable=False),  # where the bytes are: postgres (content) or s3
    sa.Column("content", sa.LargeBinary, nullable=True),
    sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

_NAMESPACE = uuid5(NAMESPACE_URL, "urn:clm-platform:documents")


class DocumentMissing(LookupError):
    pass


def reference(content: bytes, media_type: str, filename: str) -> DocumentRef:
    sha256 = hashlib.sha256(content).hexdigest()
    return DocumentRef(document_id=uuid5(_NAMESPACE, f"{sha256}/{media_type}/{filename}"), sha256=sha256,
                       size=len(content), media_type=media_type, filename=filename)


async def record(conn: AsyncConnection, ref: DocumentRef, store: str, content: bytes | None) -> None:
    await conn.execute(insert(documents).values(
        document_id=ref.document_id, sha256=ref.sha256, size=ref.size, media_type=ref.media_type,
        filename=ref.filename, store=store, content=content,
    ).on_conflict_do_nothing(index_elements=["document_id"]))


async def row_of(conn: AsyncConnection, document_id: UUID):
    row = (await conn.execute(sa.select(documents).where(documents.c.document_id == document_id))).one_or_none()
    if row is None:
        raise DocumentMissing(document_id)
    return row


def ref_of(row) -> DocumentRef:
    return DocumentRef(document_id=row.document_id, sha256=row.sha256, size=row.size, media_type=row.media_type,
                       filename=row.filename)


class PostgresDocumentStore:
    """The default store: the bytes in the `documents` row itself (bytea)."""

    def __init__(self, conn: AsyncConnection):
        self._conn = conn

    async def put(self, content: bytes, media_type: str, filename: str) -> DocumentRef:
        ref = reference(content, media_type, filename)
        await record(self._conn, ref, "postgres", content)
        return ref

    async def get(self, document_id: UUID) -> tuple[DocumentRef, bytes]:
        row = await row_of(self._conn, document_id)
        return ref_of(row), row.content
