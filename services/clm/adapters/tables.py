"""Every table clm's code uses, in the MetaData objects that hold them: the backbone's and its
query table of requests. Its migrations must create exactly these (tests/integration/test_migrations.py)."""

from services.clm.adapters import request_index
from shared.backbone import tables as backbone

metadata = (backbone.metadata, request_index.metadata)
