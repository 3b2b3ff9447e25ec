"""Operations' query tables in a unit of work's transaction (`uow.views`, given by main.py), one
attribute per index; memory_views.py is the in-memory twin for unit tests of the use cases."""

from shared.backbone.unit_of_work import UnitOfWork
from services.asset_coverage.adapters.calendar_index import SqlCalendarIndex
from services.asset_coverage.adapters.change_window_index import SqlChangeWindows
from services.asset_coverage.adapters.coverage_index import SqlCoverageIndex
from services.asset_coverage.adapters.inventory_index import SqlInventoryIndex
from services.asset_coverage.adapters.renewal_task_index import SqlRenewalTaskIndex
from services.asset_coverage.adapters.successor_index import SqlSuccessorIndex


class SqlViews:
    def __init__(self, uow: UnitOfWork):
        self._uow = uow
        self.inventory = SqlInventoryIndex(uow.conn)
        self.coverage = SqlCoverageIndex(uow.conn)
        self.renewal_tasks = SqlRenewalTaskIndex(uow)
        self.change_windows = SqlChangeWindows(uow.conn)
        self.calendar = SqlCalendarIndex(uow.conn)
        self.successors = SqlSuccessorIndex(uow.conn)
