"""Which document store a running clm uses, from the environment:

DOCUMENT_STORE=postgres (default) | s3; for s3 also S3_BUCKET, S3_ENDPOINT_URL (left out for AWS
itself), S3_REGION, and the credentials as boto3 reads them (AWS_ACCESS_KEY_ID, ...)."""

from functools import cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.ext.asyncio import AsyncConnection

from services.clm.adapters.documents_pg import PostgresDocumentStore
from services.clm.adapters.documents_s3 import S3DocumentStore, s3_client


class DocumentStoreSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    document_store: Literal["postgres", "s3"] = "postgres"
    s3_bucket: str | None = Field(None, description="required with DOCUMENT_STORE=s3")
    s3_endpoint_url: str | None = Field(None, description="an S3-compatible endpoint; none for AWS S3")
    s3_region: str | None = None


@cache
def _settings() -> DocumentStoreSettings:
    settings = DocumentStoreSettings()
    if settings.document_store == "s3" and not settings.s3_bucket:
        raise ValueError("DOCUMENT_STORE=s3 needs S3_BUCKET")
    return settings


@cache
def _client(endpoint_url: str | None, region: str | None):
    return s3_client(endpoint_url, region)


def document_store(conn: AsyncConnection):
    """The configured store, on a unit of work's connection."""
    settings = _settings()
    if settings.document_store == "s3":
        return S3DocumentStore(conn, _client(settings.s3_endpoint_url, settings.s3_region), settings.s3_bucket)
    return PostgresDocumentStore(conn)
