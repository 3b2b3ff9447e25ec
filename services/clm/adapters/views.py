"""Contracting's query tables in a unit of work's transaction (`uow.views`, given by main.py):
`requests` (request_index.py), `comments` (comment_index.py) and `library` (library_index.py: the
clause list, whose unique key constraint makes a clause key unique, and the template list) and `approvals` (approval_index.py: the approvers' queue, the matrices), `catalogue`
(catalogue_copy.py: the copy of order sync's catalogue and the activations waiting on a SKU), `links`
(link_index.py: amendments and successors by parent).
memory_views.py is the in-memory twin for unit tests."""

from shared.backbone.unit_of_work import UnitOfWork
from services.clm.adapters.approval_index import SqlApprovalIndex
from services.clm.adapters.catalogue_copy import SqlCatalogueCopy
from services.clm.adapters.comment_index import SqlCommentIndex
from services.clm.adapters.library_index import SqlLibraryIndex
from services.clm.adapters.link_index import SqlLinkIndex
from services.clm.adapters.request_index import SqlRequestIndex


class SqlViews:
    def __init__(self, uow: UnitOfWork):
        self.requests = SqlRequestIndex(uow)
        self.comments = SqlCommentIndex(uow)
        self.library = SqlLibraryIndex(uow)
        self.approvals = SqlApprovalIndex(uow)
        self.catalogue = SqlCatalogueCopy(uow)
        self.links = SqlLinkIndex(uow)
