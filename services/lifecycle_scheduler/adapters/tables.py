"""Every table lifecycle_scheduler's code uses, in the MetaData objects that hold them: the
backbone's and the timers (service_timers, quote_timers, operational_contract_timers and link_timers add
theirs to timers.metadata). Its migrations must create exactly these (tests/integration/test_migrations.py)."""

from services.lifecycle_scheduler.adapters import (  # noqa: F401 (their tables)
    link_timers, operational_contract_timers, quote_timers, service_timers, timers,
)
from shared.backbone import tables as backbone

metadata = (backbone.metadata, timers.metadata)
