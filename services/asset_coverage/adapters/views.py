"""Operations' query tables in a unit of work's transaction (`uow.views`, given by main.py), one
attribute per index; memory_views.py is the in-memory twin for unit tests of the use cases."""

from shared.backbone.unit_of_work import UnitOfWork
from services.asset_coverage.adapters.renewal_task_index import SqlRenewalTaskIndex


class SqlViews:
    def __init__(self, uow: UnitOfWork):
        self._uow = uow
        self.renewal_tasks = SqlRenewalTaskIndex(uow)
