"""Every table asset_coverage's code uses, in the MetaData objects that hold them: the backbone's only.
Its migrations must create exactly these (tests/integration/test_migrations.py)."""

from shared.backbone import tables as backbone

metadata = (backbone.metadata,)
