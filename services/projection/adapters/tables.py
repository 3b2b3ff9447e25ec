"""Every table projection's code uses, in the MetaData objects that hold them: the backbone's and
the read model (service_contracts adds its tables to read_model.metadata). Its migrations must
create exactly these (tests/integration/test_migrations.py)."""

from services.projection.adapters import read_model, service_contracts  # noqa: F401 (service_contracts: its tables)
from shared.backbone import tables as backbone

metadata = (backbone.metadata, read_model.metadata)
