"""Every table lifecycle_scheduler's code uses, in the MetaData objects that hold them: the
backbone's and the timers (service_timers, quote_timers, operational_contract_timers, link_timers,
renewal_timers, approval_timers, signature_timers, start_timers, period_timers, obligation_timers and the
notification channel's deliveries add theirs to timers.metadata). Its migrations must create exactly these
(tests/integration/test_migrations.py)."""

from services.lifecycle_scheduler.adapters import (  # noqa: F401 (their tables)
    approval_timers, deliveries, link_timers, obligation_timers, period_timers, operational_contract_timers,
    quote_timers, renewal_timers, service_timers, signature_timers, start_timers, timers,
)
from shared.backbone import tables as backbone

metadata = (backbone.metadata, timers.metadata)
