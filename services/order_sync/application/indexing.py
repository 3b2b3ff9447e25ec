"""Order sync's query tables (adapters/indexes.py) follow its aggregates in the same transaction:
every use case and event handler ends with `commit` (or `save_indexes` inside a consumer's unit of
work), so a query never sees an aggregate state that was not committed, nor misses one that was."""

from shared.backbone.unit_of_work import UnitOfWork
from services.order_sync.adapters import indexes
from services.order_sync.domain.install_base import InstallBaseItem, SoldProduct
from services.order_sync.domain.service_contract import ServiceContract


async def save_indexes(uow: UnitOfWork) -> None:
    """Brings the query tables in line with the aggregates changed in this unit of work."""
    for aggregate in uow.changed():
        if isinstance(aggregate, ServiceContract):
            await indexes.save_contract(uow.conn, aggregate)
        elif isinstance(aggregate, (SoldProduct, InstallBaseItem)):
            await indexes.save_product(uow.conn, aggregate)


async def commit(uow: UnitOfWork) -> None:
    await save_indexes(uow)
    await uow.commit()
