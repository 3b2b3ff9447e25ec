"""The reconciliation table: one row per executed contract order sync was told of (ContractExecuted,
then ContractActivated v2), with the signed terms, what the order's fulfilment mapped (contract line -> service line), the
state of the latest check and its differences. Written in the unit of work's transaction, with the
reconciliation stream's events (application/reconciliation.py)."""

import datetime as dt
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncConnection

metadata = sa.MetaData()

reconciliations = sa.Table(
    "reconciliations", metadata,
    sa.Column("contract_id", sa.Uuid, primary_key=True),
    sa.Column("number", sa.Text),  # none until v2
    sa.Column("account", sa.Text),
    sa.Column("executed_at", sa.DateTime(timezone=True)),  # ContractExecuted
    sa.Column("signed", JSONB, nullable=False),  # the ContractActivated v2 event's fields; {} before it
    sa.Column("fulfilled_lines", JSONB, nullable=False),  # contract line id -> service line id
    sa.Column("order_lines", JSONB, nullable=False),  # order line id -> contract line id (OrderCreated)
    sa.Column("order_state", sa.Text),  # created | fallout | fulfilled; none: no order seen
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("differences", JSONB, nullable=False),
    sa.Column("checked_at", sa.DateTime(timezone=True)),
    sa.Column("reconciled_at", sa.DateTime(timezone=True)),
    sa.Index("reconciliations_state", "state", "contract_id"),
)


async def record_signed(conn: AsyncConnection, contract_id: UUID, number: str, account: str | None, signed: dict) -> None:
    """The signed terms (again: a later v2 of the same contract replaces them)."""
    statement = insert(reconciliations).values(
        contract_id=contract_id, number=number, account=account, signed=signed, fulfilled_lines={}, order_lines={},
        state="pending", differences=[])
    await conn.execute(statement.on_conflict_do_update(
        index_elements=[reconciliations.c.contract_id], set_={"number": number, "account": account, "signed": signed}))


async def record_executed(conn: AsyncConnection, contract_id: UUID, executed_at: dt.datetime) -> None:
    """Executed, not active yet: listed as pending until its v2 comes."""
    statement = insert(reconciliations).values(
        contract_id=contract_id, executed_at=executed_at, signed={}, fulfilled_lines={}, order_lines={},
        state="pending", differences=[])
    await conn.execute(statement.on_conflict_do_update(
        index_elements=[reconciliations.c.contract_id], set_={"executed_at": executed_at}))


def known(row) -> bool:
    """An executed contract (a row made by order events alone is not one yet)."""
    return row is not None and bool(row["signed"] or row["executed_at"])


async def locked(conn: AsyncConnection, contract_id: UUID):
    """The row, locked until the transaction ends: two checks of one contract run one after the other."""
    return (await conn.execute(sa.select(reconciliations).where(reconciliations.c.contract_id == contract_id)
                               .with_for_update())).mappings().one_or_none()


async def get(conn: AsyncConnection, contract_id: UUID):
    return (await conn.execute(sa.select(reconciliations).where(reconciliations.c.contract_id == contract_id))
            ).mappings().one_or_none()


async def update(conn: AsyncConnection, contract_id: UUID, **values) -> None:
    await conn.execute(reconciliations.update().where(reconciliations.c.contract_id == contract_id).values(**values))


async def ensure_order(conn: AsyncConnection, contract_id: UUID) -> None:
    """Order events may come before the contract's v2: a placeholder row keeps what they say."""
    await conn.execute(insert(reconciliations).values(
        contract_id=contract_id, signed={}, fulfilled_lines={}, order_lines={}, state="pending",
        differences=[]).on_conflict_do_nothing())


async def page(conn: AsyncConnection, *, state: str | None, after: UUID | None, limit: int) -> list:
    query = (sa.select(reconciliations).where(sa.or_(reconciliations.c.signed != sa.cast(sa.literal("{}"), JSONB),
                                                     reconciliations.c.executed_at.is_not(None)))
             .order_by(reconciliations.c.contract_id).limit(limit))
    if state:
        query = query.where(reconciliations.c.state == state)
    if after:
        query = query.where(reconciliations.c.contract_id > after)
    return list((await conn.execute(query)).mappings())


async def signed_ids(conn: AsyncConnection, after: UUID | None, limit: int) -> list[UUID]:
    query = (sa.select(reconciliations.c.contract_id).where(reconciliations.c.signed != sa.cast(sa.literal("{}"), JSONB))
             .order_by(reconciliations.c.contract_id).limit(limit))
    if after:
        query = query.where(reconciliations.c.contract_id > after)
    return list((await conn.execute(query)).scalars())
