"""Every table asset_coverage's code uses, in the MetaData objects that hold them: the backbone's and
the coverage index's. Its migrations must create exactly these (tests/integration/test_migrations.py)."""

from services.asset_coverage.adapters import coverage_tables
from shared.backbone import tables as backbone

metadata = (backbone.metadata, coverage_tables.metadata)
