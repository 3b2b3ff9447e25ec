"""asset_coverage's settings beyond every service's: the renewal offsets its calendar feeds show,
and the limits and workings of spreadsheet imports."""

import tempfile
from pathlib import Path

from pydantic import Field, field_validator

from shared.backbone.settings import ServiceSettings
from shared.events.renewal_tasks import DEFAULT_OFFSETS_DAYS, parse_offsets

IMPORT_MAX_BYTES = 50 * 1024 * 1024


class AssetCoverageSettings(ServiceSettings):
    renewal_task_offsets_days: str = Field(
        ",".join(map(str, DEFAULT_OFFSETS_DAYS)),
        description='RENEWAL_TASK_OFFSETS_DAYS ("90,60,30,0", as the scheduler reads it): days before a '
                    "contract's end on which its renewal is due for attention; the calendar feeds' alarms fall on them")

    @field_validator("renewal_task_offsets_days")
    @classmethod
    def _offsets_readable(cls, text: str) -> str:
        parse_offsets(text)
        return text

    def renewal_offsets(self) -> tuple[int, ...]:
        return parse_offsets(self.renewal_task_offsets_days)

    import_max_bytes: int = Field(IMPORT_MAX_BYTES, gt=0, description="IMPORT_MAX_BYTES: the largest spreadsheet an import takes")
    import_batch_size: int = Field(500, ge=1, le=5000, description="IMPORT_BATCH_SIZE: rows committed per transaction")
    import_dir: Path = Field(Path(tempfile.gettempdir()) / "asset_coverage_imports",
                             description="IMPORT_DIR: where uploaded files wait for their job (deleted when it ends)")
    import_stale_seconds: float = Field(120.0, gt=0, description="IMPORT_STALE_SECONDS: a job whose instance has not "
                                        "heartbeaten for this long is marked failed (its instance stopped)")
