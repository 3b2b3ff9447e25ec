"""Every table clm's code uses, in the MetaData objects that hold them: the backbone's, the
documents, the library's and the requests' query tables. Its migrations must create exactly these
(tests/integration/test_migrations.py)."""

from services.clm.adapters import catalogue_copy, comment_index, documents_pg, library_index, request_index
from shared.backbone import tables as backbone

metadata = (backbone.metadata, documents_pg.metadata, library_index.metadata, request_index.metadata, comment_index.metadata,
            catalogue_copy.metadata)
