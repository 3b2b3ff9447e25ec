"""clm's document stores on a migrated clm schema: the PostgreSQL store writes in the unit of
work's transaction (a rollback leaves nothing), and the S3 store against moto's standalone
S3-compatible server (skipped, saying so, when moto's server is not installed)."""

import hashlib
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from services.clm.adapters.documents_pg import PostgresDocumentStore
from services.clm.adapters.documents_s3 import S3DocumentStore, s3_client
from tests.conftest import migrated_schema

pytestmark = pytest.mark.integration

CLM_MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "clm" / "adapters" / "migrations"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


async def test_the_postgres_store_commits_with_the_transaction_or_not_at_all(stack):
    async with migrated_schema(stack, CLM_MIGRATIONS, "clm_documents") as engine:
        async with engine.connect() as conn:
            async with conn.begin() as tx:
                ref = await PostgresDocumentStore(conn).put(b"first draft", DOCX, "a.docx")
                await tx.rollback()
        async with engine.connect() as conn:
            assert (await conn.execute(sa.text("SELECT count(*) FROM documents"))).scalar() == 0
        async with engine.begin() as conn:
            again = await PostgresDocumentStore(conn).put(b"first draft", DOCX, "a.docx")
            assert again == ref and ref.sha256 == hashlib.sha256(b"first draft").hexdigest() and ref.size == 11
            await PostgresDocumentStore(conn).put(b"first draft", DOCX, "a.docx")  # the same file is stored once
        async with engine.connect() as conn:
            assert await PostgresDocumentStore(conn).get(ref.document_id) == (ref, b"first draft")
            assert (await conn.execute(sa.text("SELECT count(*) FROM documents"))).scalar() == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def s3_endpoint(monkeypatch):
    server = shutil.which("moto_server") or str(Path(__import__("sys").executable).with_name("moto_server"))
    if not Path(server).exists():
        pytest.skip("moto's standalone server is not installed (pip install 'moto[server]')")
    port = _free_port()
    process = subprocess.Popen([server, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_the_s3_store_keeps_the_bytes_in_the_bucket_and_the_reference_in_postgres(stack, s3_endpoint):
    client = s3_client(s3_endpoint, "eu-central-1")
    client.create_bucket(Bucket="clm-documents", CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
    content = b"PK\x03\x04 not really a docx" * 100
    async with migrated_schema(stack, CLM_MIGRATIONS, "clm_s3") as engine:
        async with engine.begin() as conn:
            ref = await S3DocumentStore(conn, client, "clm-documents").put(content, DOCX, "msa.docx")
        async with engine.connect() as conn:
            assert await S3DocumentStore(conn, client, "clm-documents").get(ref.document_id) == (ref, content)
            row = (await conn.execute(sa.text("SELECT store, content FROM documents"))).one()
        assert (row.store, row.content) == ("s3", None)
        stored = client.get_object(Bucket="clm-documents", Key=f"documents/{ref.sha256}")["Body"].read()
        assert hashlib.sha256(stored).hexdigest() == ref.sha256 == hashlib.sha256(content).hexdigest()
