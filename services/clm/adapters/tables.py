"""Every table clm's code uses, in the MetaData objects that hold them: the backbone's, the
documents and the library's query tables. Its migrations must create exactly these
(tests/integration/test_migrations.py)."""

from services.clm.adapters import documents_pg, library_index
from shared.backbone import tables as backbone

metadata = (backbone.metadata, documents_pg.metadata, library_index.metadata)
