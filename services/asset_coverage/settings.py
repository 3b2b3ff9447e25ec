"""Settings of asset coverage (environment variables, in addition to every service's)."""

from pydantic import Field

from shared.backbone.settings import ServiceSettings


class AssetCoverageSettings(ServiceSettings):
    renewal_task_offsets_days: list[int] = Field(
        [90, 60, 30, 0], min_length=1,
        description='RENEWAL_TASK_OFFSETS_DAYS (JSON, e.g. "[90,60,30,0]"): days before a contract\'s end on which '
                    "its renewal is due for attention; the calendar feeds' alarms fall on them")
