"""What the use cases need from the outside world, as protocols; adapters/ implements them."""

from typing import Protocol
from uuid import UUID

from shared.events.documents import DocumentRef


class DocumentStore(Protocol):
    """Stores document bytes in the unit of work's transaction (or before it, for an object store)."""

    async def put(self, content: bytes, media_type: str, filename: str) -> DocumentRef:
        """The reference of the stored bytes: SHA-256 and size computed here, never taken from a caller."""

    async def get(self, document_id: UUID) -> tuple[DocumentRef, bytes]:
        """The reference and the bytes; raises adapters.documents_pg.DocumentMissing if there is none."""


class SignatureProvider(Protocol):
    """Where an envelope is signed: built-in (clm's own links and page), DocuSign or Adobe Acrobat
    Sign (adapters/signature/docusign.py, adobe_sign.py), each through its REST API."""

    name: str

    async def create_envelope(self, *, envelope_id: UUID, title: str, document: bytes, filename: str,
                              signers: list, deadline, at) -> str | None:
        """The provider's id of the envelope / agreement it created (None for built-in signing)."""

    async def cancel_envelope(self, provider_envelope_id: str, reason: str) -> None:
        """Voids the envelope at the provider (nothing for built-in signing)."""
