"""order_sync's settings beyond every service's: how often every executed contract is reconciled."""

from pydantic import Field

from shared.backbone.settings import ServiceSettings


class OrderSyncSettings(ServiceSettings):
    reconciliation_interval_seconds: float = Field(
        3600.0, gt=0, description="RECONCILIATION_INTERVAL_SECONDS: how often the periodic check compares every "
                                  "executed contract with its service contract (events trigger checks in between)")
