"""Every table order_sync's code uses, in the MetaData objects that hold them: the backbone's and
its query tables (the service contracts', quotes' and install base's; the catalogue's and orders') and the
reconciliation table. Its migrations must create exactly these (tests/integration/test_migrations.py)."""

from services.order_sync.adapters import indexes, order_indexes, reconciliations
from shared.backbone import tables as backbone

metadata = (backbone.metadata, indexes.metadata, order_indexes.metadata, reconciliations.metadata)
