"""Every table clm's code uses, in the MetaData objects that hold them: the backbone's, the
documents, the library's and the requests' query tables. Its migrations must create exactly these
(tests/integration/test_migrations.py)."""

from services.clm.adapters import (
    approval_index, catalogue_copy, comment_index, documents_pg, library_index, link_index, obligation_index,
    request_index,
)
from services.clm.adapters.signature import tables as signature_tables
from shared.backbone import tables as backbone

metadata = (backbone.metadata, documents_pg.metadata, library_index.metadata, request_index.metadata, comment_index.metadata,
            approval_index.metadata, signature_tables.metadata, catalogue_copy.metadata,
            link_index.metadata, obligation_index.metadata)
