"""How events point at a stored document: never its bytes, its id and fingerprint."""

from uuid import UUID

from pydantic import BaseModel, Field


class DocumentRef(BaseModel):
    document_id: UUID
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the bytes, lower-case hex")
    size: int = Field(ge=0, description="bytes")
    media_type: str = Field(examples=["application/vnd.openxmlformats-officedocument.wordprocessingml.document"])
    filename: str = Field(max_length=255)
