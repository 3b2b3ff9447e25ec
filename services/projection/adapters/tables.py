"""Every table projection's code uses, in the MetaData objects that hold them: the backbone's and
the read models' (contract_history, contract_links, contracting_records, cycle_times, negotiation_records,
renewal_calendar and service_contract_records add theirs to contract_records.metadata). Its
migrations must create exactly these (tests/integration/test_migrations.py)."""

from services.projection.adapters import (  # noqa: F401 (their tables)
    contract_history, contract_links, contract_records, contracting_records, cycle_times, negotiation_records,
    renewal_calendar, service_contract_records,
)
from shared.backbone import tables as backbone

metadata = (backbone.metadata, contract_records.metadata)
