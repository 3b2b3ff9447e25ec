"""Documents in an S3-compatible object store (AWS S3, MinIO, Ceph, ...), for production: the bytes
go to the bucket under `documents/<sha256>`, the reference to the `documents` table as with the
default store, in the unit of work's transaction. The upload happens first: a transaction that then
rolls back leaves an object no row points at (content-addressed, so harmless and reused by the
next upload of the same bytes), never a row pointing at nothing.

boto3 is synchronous: its calls run in a worker thread. Credentials come the way boto3 reads
them (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or an instance role)."""

import asyncio
import base64
import hashlib
from uuid import UUID

import boto3
from botocore.config import Config
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.events.documents import DocumentRef
from services.clm.adapters.documents_pg import record, ref_of, reference, row_of


def s3_client(endpoint_url: str | None, region: str | None):
    return boto3.client("s3", endpoint_url=endpoint_url, region_name=region,
                        config=Config(retries={"max_attempts": 3, "mode": "standard"}))


class S3DocumentStore:
    def __init__(self, conn: AsyncConnection, client, bucket: str):
        self._conn = conn
        self._client = client
        self._bucket = bucket

    async def put(self, content: bytes, media_type: str, filename: str) -> DocumentRef:
        ref = reference(content, media_type, filename)
        await asyncio.to_thread(self._client.put_object, Bucket=self._bucket, Key=_key(ref.sha256), Body=content,
                                ContentType=media_type, ChecksumSHA256=_base64_sha256(content))
        await record(self._conn, ref, "s3", None)
        return ref

    async def get(self, document_id: UUID) -> tuple[DocumentRef, bytes]:
        row = await row_of(self._conn, document_id)
        answer = await asyncio.to_thread(self._client.get_object, Bucket=self._bucket, Key=_key(row.sha256))
        content = await asyncio.to_thread(answer["Body"].read)
        if hashlib.sha256(content).hexdigest() != row.sha256:
            raise ValueError(f"document {document_id}: the object in {self._bucket} does not match its SHA-256")
        return ref_of(row), content


def _key(sha256: str) -> str:
    return f"documents/{sha256}"


def _base64_sha256(content: bytes) -> str:
    return base64.b64encode(hashlib.sha256(content).digest()).decode()
