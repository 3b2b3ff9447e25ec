"""Every table asset_coverage's code uses, in the MetaData objects that hold them: the backbone's and
the import jobs'. Its migrations must create exactly these (tests/integration/test_migrations.py)."""

from shared.backbone import tables as backbone
from services.asset_coverage.adapters import import_jobs

metadata = (backbone.metadata, import_jobs.metadata)
