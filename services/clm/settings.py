"""clm's settings beyond every service's: the upload limit and the party we contract as."""

from pydantic import Field

from shared.backbone.settings import ServiceSettings
from services.clm.adapters.word.reader import MAX_UPLOAD_BYTES


class ClmSettings(ServiceSettings):
    upload_max_bytes: int = Field(MAX_UPLOAD_BYTES, gt=0, description="UPLOAD_MAX_BYTES: the largest .docx a version upload takes")
    vendor_name: str = Field("Initech", min_length=1, max_length=200,
                             description="VENDOR_NAME: our party (role vendor) on drafted contracts")
