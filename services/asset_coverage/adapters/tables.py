"""Every table asset_coverage's code uses, in the MetaData objects that hold them: the backbone's and
the inventory's query tables. Its migrations must create exactly these (tests/integration/test_migrations.py)."""

from services.asset_coverage.adapters import inventory_index
from shared.backbone import tables as backbone

metadata = (backbone.metadata, inventory_index.metadata)
