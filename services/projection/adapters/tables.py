"""Every table projection's code uses, in the MetaData objects that hold them: the backbone's and
the read models' (service_contract_records adds its tables to contract_records.metadata). Its
migrations must create exactly these (tests/integration/test_migrations.py)."""

from services.projection.adapters import contract_records, service_contract_records  # noqa: F401 (its tables)
from shared.backbone import tables as backbone

metadata = (backbone.metadata, contract_records.metadata)
