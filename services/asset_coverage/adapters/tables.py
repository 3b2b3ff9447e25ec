"""Every table asset_coverage's code uses, in the MetaData objects that hold them: the backbone's, the
inventory's query tables, the coverage index, the renewal tasks, the import jobs, the change window
index, the calendar feeds' tables and contracting's renewal successors. Its migrations must create exactly these
(tests/integration/test_migrations.py)."""

from shared.backbone import tables as backbone
from services.asset_coverage.adapters import (
    calendar_index, change_window_index, coverage_tables, import_jobs, inventory_index, renewal_task_index, successor_index,
)

metadata = (backbone.metadata, inventory_index.metadata, coverage_tables.metadata, renewal_task_index.metadata,
            import_jobs.metadata, change_window_index.metadata, calendar_index.metadata, successor_index.metadata)
