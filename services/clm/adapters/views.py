"""Contracting's query tables in a unit of work's transaction (`uow.views`, given by main.py):
`requests` (request_index.py) and `comments` (comment_index.py). memory_views.py is the in-memory
twin for unit tests. The library's tables stay behind library_index.LibraryIndex on `uow.conn`:
its key constraint is PostgreSQL's, and its use cases are tested on PostgreSQL only."""

from shared.backbone.unit_of_work import UnitOfWork
from services.clm.adapters.comment_index import SqlCommentIndex
from services.clm.adapters.request_index import SqlRequestIndex


class SqlViews:
    def __init__(self, uow: UnitOfWork):
        self.requests = SqlRequestIndex(uow)
        self.comments = SqlCommentIndex(uow)
