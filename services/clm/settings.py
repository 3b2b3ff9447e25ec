"""clm's settings beyond every service's: the upload limit, the party we contract as, and when an
approval step is at risk."""

from pydantic import Field

from shared.backbone.settings import ServiceSettings
from services.clm.adapters.word.reader import MAX_UPLOAD_BYTES
from services.clm.domain.rules import APPROVAL_AT_RISK_FRACTION


class ClmSettings(ServiceSettings):
    upload_max_bytes: int = Field(MAX_UPLOAD_BYTES, gt=0, description="UPLOAD_MAX_BYTES: the largest .docx a version upload takes")
    vendor_name: str = Field("Initech", min_length=1, max_length=200,
                             description="VENDOR_NAME: our party (role vendor) on drafted contracts")
    approval_at_risk_fraction: float = Field(
        APPROVAL_AT_RISK_FRACTION, gt=0, lt=1,
        description="APPROVAL_AT_RISK_FRACTION: the share of an approval step's SLA after which it is at risk")
