"""The service contract read model: service contracts with their lines and entitlements, and the
sold products and install base items they cover, as commerce (order sync) last described them.

One contract's events arrive in order on one partition, so each write sets what its event says,
in one statement and without reading first: applied twice it leaves what it left once, and a
creation applied again even later overwrites nothing (ON CONFLICT DO NOTHING). Redeliveries stop
earlier, at the consumer's inbox. Lines and entitlements are keyed within their contract. Times
stored are the events' own, never the time of processing, so a rebuild reproduces the rows
exactly. `state_since` is the `effective_on` date of the last transition. Transitions of many
rows (a run the consumer hands over together) are set with one UPDATE ... FROM unnest per table.
"""

import datetime as dt
import functools
import json
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.projection.adapters.contract_records import metadata

service_contracts = sa.Table(
    "service_contracts",
    metadata,
    sa.Column("contract_id", sa.Uuid, primary_key=True),
    sa.Column("number", sa.Text, nullable=False),
    sa.Column("account", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("state_since", sa.Date),
    sa.Column("start_date", sa.Date, nullable=False),
    sa.Column("end_date", sa.Date, nullable=False),
    sa.Column("time_zone", sa.Text, nullable=False),
    sa.Column("cancel_reason", sa.Text),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    # The filters of GET /service-contracts, each followed by the cursor's order.
    sa.Index("service_contracts_account", "account", "contract_id"),
    sa.Index("service_contracts_state", "state", "contract_id"),
    sa.Index("service_contracts_number", "number"),
)

contract_lines = sa.Table(
    "contract_lines",
    metadata,
    sa.Column("contract_id", sa.Uuid, primary_key=True),
    sa.Column("line_id", sa.Uuid, primary_key=True),
    sa.Column("product", sa.Text, nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("unit_price", sa.Numeric, nullable=False),
    sa.Column("sold_product_id", sa.Uuid),
    sa.Column("install_base_item_id", sa.Uuid),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("state_since", sa.Date),
    sa.Column("start_date", sa.Date, nullable=False),
    sa.Column("end_date", sa.Date, nullable=False),
    sa.Column("disconnected", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    postgresql_with={"fillfactor": 70},
)

entitlements = sa.Table(
    "entitlements",
    metadata,
    sa.Column("contract_id", sa.Uuid, primary_key=True),
    sa.Column("entitlement_id", sa.Uuid, primary_key=True),
    sa.Column("line_id", sa.Uuid),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("support_level", sa.Text),
    sa.Column("sla", sa.Text),
    sa.Column("features", ARRAY(sa.Text), nullable=False),
    sa.Column("usage_limit", sa.Integer),
    sa.Column("usage_unit", sa.Text),
    sa.Column("sold_product_id", sa.Uuid),
    sa.Column("install_base_item_id", sa.Uuid),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("state_since", sa.Date),
    sa.Column("start_date", sa.Date, nullable=False),
    sa.Column("end_date", sa.Date, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    postgresql_with={"fillfactor": 70},
)

sold_products = sa.Table(
    "sold_products",
    metadata,
    sa.Column("sold_product_id", sa.Uuid, primary_key=True),
    sa.Column("account", sa.Text, nullable=False),
    sa.Column("product", sa.Text, nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("state_since", sa.Date),
    sa.Column("suspension_reason", sa.Text),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

install_base_items = sa.Table(
    "install_base_items",
    metadata,
    sa.Column("install_base_item_id", sa.Uuid, primary_key=True),
    sa.Column("account", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("site", sa.Text, nullable=False),
    sa.Column("sold_product_id", sa.Uuid),
    sa.Column("serial_number", sa.Text),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("state_since", sa.Date),
    sa.Column("suspension_reason", sa.Text),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)


# -- writes: one statement each ------------------------------------------------------------------
# Statements are built once per shape and an event's values are their parameters: building a
# SQLAlchemy statement per event costs more than PostgreSQL takes to run it.


def _param(column: str) -> sa.BindParameter:
    return sa.bindparam(f"p_{column}")


def _params(**values) -> dict:
    return {f"p_{column}": value for column, value in values.items()}


@functools.cache
def _insert_new(table: sa.Table, columns: tuple[str, ...]) -> sa.Insert:
    """INSERT of a row that leaves the row there already as it is."""
    return insert(table).values({c: _param(c) for c in columns}).on_conflict_do_nothing()


@functools.cache
def _update(table: sa.Table, key: tuple[str, ...], columns: tuple[str, ...]) -> sa.Update:
    return sa.update(table).where(*(table.c[k] == _param(k) for k in key)).values({c: _param(c) for c in columns})


async def _insert(conn: AsyncConnection, table: sa.Table, **row) -> None:
    await conn.execute(_insert_new(table, tuple(row)), _params(**row))


async def _set(conn: AsyncConnection, table: sa.Table, key: dict, **values) -> None:
    await conn.execute(_update(table, tuple(key), tuple(values)), _params(**key, **values))


def _drafting() -> sa.Insert:
    """The contract, and its lines and entitlements (each passed as one JSON array) only if the
    contract was not there already, so a line removed since does not come back."""
    terms = ("contract_id", "number", "account", "state", "start_date", "end_date", "time_zone", "updated_at")
    drafted = (
        _insert_new(service_contracts, terms)
        .returning(service_contracts.c.contract_id, service_contracts.c.updated_at)
        .cte("drafted")
    )

    def children(table: sa.Table) -> sa.Insert:
        columns = [c for c in table.c if c.name not in ("contract_id", "updated_at") and c.server_default is None]
        rows = (
            sa.func.jsonb_to_recordset(sa.cast(sa.bindparam(f"p_{table.name}", type_=sa.Text), JSONB))
            .table_valued(*(sa.column(c.name, c.type) for c in columns))
            .render_derived(with_types=True)
        )
        return insert(table).from_select(
            ["contract_id", *(c.name for c in columns), "updated_at"],
            sa.select(drafted.c.contract_id, *rows.c, drafted.c.updated_at).select_from(drafted.join(rows, sa.true())),
        )

    return children(entitlements).add_cte(children(contract_lines).cte("drafted_lines"))


_DRAFTING = _drafting()

_REMOVING_LINE = sa.delete(entitlements).where(
    entitlements.c.contract_id == _param("contract_id"), entitlements.c.line_id == _param("line_id")
).add_cte(
    sa.delete(contract_lines)
    .where(contract_lines.c.contract_id == _param("contract_id"), contract_lines.c.line_id == _param("line_id"))
    .cte("line_removed")
)

_REMOVING_ENTITLEMENT = sa.delete(entitlements).where(
    entitlements.c.contract_id == _param("contract_id"), entitlements.c.entitlement_id == _param("entitlement_id")
)


async def record_contract(
    conn: AsyncConnection, contract_id: UUID, at: dt.datetime, *, number: str, account: str,
    start_date: dt.date, end_date: dt.date, time_zone: str, with_lines: list[dict] = (), with_entitlements: list[dict] = (),
) -> None:
    """A new service contract in Draft, with the lines and entitlements it was drafted with."""
    await conn.execute(_DRAFTING, _params(
        contract_id=contract_id, number=number, account=account, state="draft", start_date=start_date,
        end_date=end_date, time_zone=time_zone, updated_at=at,
        contract_lines=json.dumps(list(with_lines), default=str), entitlements=json.dumps(list(with_entitlements), default=str),
    ))


async def change_contract(conn: AsyncConnection, contract_id: UUID, at: dt.datetime, **values) -> None:
    await _set(conn, service_contracts, {"contract_id": contract_id}, updated_at=at, **values)


async def add_line(conn: AsyncConnection, contract_id: UUID, at: dt.datetime, **line) -> None:
    await _insert(conn, contract_lines, contract_id=contract_id, updated_at=at, **line)


async def change_line(conn: AsyncConnection, contract_id: UUID, line_id: UUID, at: dt.datetime, **values) -> None:
    await _set(conn, contract_lines, {"contract_id": contract_id, "line_id": line_id}, updated_at=at, **values)


async def remove_line(conn: AsyncConnection, contract_id: UUID, line_id: UUID) -> None:
    """The line goes, and the entitlements attached to it with it (whether or not their own
    EntitlementRemoved events follow)."""
    await conn.execute(_REMOVING_LINE, _params(contract_id=contract_id, line_id=line_id))


async def add_entitlement(conn: AsyncConnection, contract_id: UUID, at: dt.datetime, **entitlement) -> None:
    await _insert(conn, entitlements, contract_id=contract_id, updated_at=at, **entitlement)


async def change_entitlement(conn: AsyncConnection, contract_id: UUID, entitlement_id: UUID, at: dt.datetime, **values) -> None:
    await _set(conn, entitlements, {"contract_id": contract_id, "entitlement_id": entitlement_id}, updated_at=at, **values)


async def remove_entitlement(conn: AsyncConnection, contract_id: UUID, entitlement_id: UUID) -> None:
    await conn.execute(_REMOVING_ENTITLEMENT, _params(contract_id=contract_id, entitlement_id=entitlement_id))


async def record_sold_product(conn: AsyncConnection, sold_product_id: UUID, at: dt.datetime, **fields) -> None:
    await _insert(conn, sold_products, sold_product_id=sold_product_id, state="active", updated_at=at, **fields)


async def change_sold_product(conn: AsyncConnection, sold_product_id: UUID, at: dt.datetime, **values) -> None:
    await _set(conn, sold_products, {"sold_product_id": sold_product_id}, updated_at=at, **values)


async def record_install_base_item(conn: AsyncConnection, install_base_item_id: UUID, at: dt.datetime, **fields) -> None:
    await _insert(conn, install_base_items, install_base_item_id=install_base_item_id, state="active", updated_at=at, **fields)


async def change_install_base_item(conn: AsyncConnection, install_base_item_id: UUID, at: dt.datetime, **values) -> None:
    await _set(conn, install_base_items, {"install_base_item_id": install_base_item_id}, updated_at=at, **values)


# -- transitions of many rows: one statement per table ------------------------------------------
# A run of transitions (the expiry or activation wave) sets state, state_since and updated_at on
# many rows; the caller keeps each row's last transition, so a row appears once per statement. The
# texts do not depend on how many rows there are, so asyncpg prepares each once.

_SET_CONTRACT_STATES = sa.text(
    """UPDATE service_contracts AS t
    SET state = u.state, state_since = u.state_since, updated_at = u.updated_at,
        cancel_reason = CASE WHEN u.canceled THEN u.cancel_reason ELSE t.cancel_reason END
    FROM unnest(CAST(:contract_id AS uuid[]), CAST(:state AS text[]), CAST(:state_since AS date[]),
                CAST(:updated_at AS timestamptz[]), CAST(:canceled AS boolean[]), CAST(:cancel_reason AS text[]))
         AS u(contract_id, state, state_since, updated_at, canceled, cancel_reason)
    WHERE t.contract_id = u.contract_id"""
)

_SET_LINE_STATES = sa.text(
    """UPDATE contract_lines AS t
    SET state = u.state, state_since = u.state_since, updated_at = u.updated_at
    FROM unnest(CAST(:contract_id AS uuid[]), CAST(:line_id AS uuid[]), CAST(:state AS text[]),
                CAST(:state_since AS date[]), CAST(:updated_at AS timestamptz[]))
         AS u(contract_id, line_id, state, state_since, updated_at)
    WHERE t.contract_id = u.contract_id AND t.line_id = u.line_id"""
)

_SET_ENTITLEMENT_STATES = sa.text(
    """UPDATE entitlements AS t
    SET state = u.state, state_since = u.state_since, updated_at = u.updated_at
    FROM unnest(CAST(:contract_id AS uuid[]), CAST(:entitlement_id AS uuid[]), CAST(:state AS text[]),
                CAST(:state_since AS date[]), CAST(:updated_at AS timestamptz[]))
         AS u(contract_id, entitlement_id, state, state_since, updated_at)
    WHERE t.contract_id = u.contract_id AND t.entitlement_id = u.entitlement_id"""
)


_RECORD_CONTRACTS = sa.text(
    """INSERT INTO service_contracts (contract_id, number, account, state, start_date, end_date, time_zone, updated_at)
    SELECT u.contract_id, u.number, u.account, 'draft', u.start_date, u.end_date, u.time_zone, u.updated_at
    FROM unnest(CAST(:contract_id AS uuid[]), CAST(:number AS text[]), CAST(:account AS text[]),
                CAST(:start_date AS date[]), CAST(:end_date AS date[]), CAST(:time_zone AS text[]),
                CAST(:updated_at AS timestamptz[]))
         AS u(contract_id, number, account, start_date, end_date, time_zone, updated_at)
    ON CONFLICT DO NOTHING"""
)


async def record_contracts(conn: AsyncConnection, rows: list[tuple]) -> None:
    """`record_contract` without lines for each row (contract_id, number, account, start_date,
    end_date, time_zone, updated_at), in one statement: a contract there already, or recorded
    earlier in `rows`, stays as it is."""
    first: dict = {}
    for row in rows:
        first.setdefault(row[0], row)
    if first:
        await conn.execute(_RECORD_CONTRACTS, _columns(
            list(first.values()), ("contract_id", "number", "account", "start_date", "end_date", "time_zone", "updated_at")))


def _columns(rows: list[tuple], names: tuple[str, ...]) -> dict:
    return {name: list(values) for name, values in zip(names, zip(*rows))}


async def set_contract_states(conn: AsyncConnection, rows: list[tuple]) -> None:
    """Each row (contract_id, state, state_since, updated_at, canceled, cancel_reason), one per
    contract: the cancel reason is set only where `canceled`, else the contract keeps its own."""
    if rows:
        await conn.execute(_SET_CONTRACT_STATES, _columns(
            rows, ("contract_id", "state", "state_since", "updated_at", "canceled", "cancel_reason")))


async def set_line_states(conn: AsyncConnection, rows: list[tuple]) -> None:
    """Each row (contract_id, line_id, state, state_since, updated_at), one per line."""
    if rows:
        await conn.execute(_SET_LINE_STATES, _columns(rows, ("contract_id", "line_id", "state", "state_since", "updated_at")))


async def set_entitlement_states(conn: AsyncConnection, rows: list[tuple]) -> None:
    """Each row (contract_id, entitlement_id, state, state_since, updated_at), one per entitlement."""
    if rows:
        await conn.execute(_SET_ENTITLEMENT_STATES, _columns(
            rows, ("contract_id", "entitlement_id", "state", "state_since", "updated_at")))


# -- reads --------------------------------------------------------------------------------------


async def get_contract(conn: AsyncConnection, contract_id: UUID) -> dict | None:
    """The service contract with its lines and entitlements, or None."""
    row = (
        await conn.execute(sa.select(service_contracts).where(service_contracts.c.contract_id == contract_id))
    ).mappings().one_or_none()
    if row is None:
        return None
    lines = await conn.execute(
        sa.select(contract_lines).where(contract_lines.c.contract_id == contract_id)
        .order_by(contract_lines.c.start_date, contract_lines.c.line_id)
    )
    granted = await conn.execute(
        sa.select(entitlements).where(entitlements.c.contract_id == contract_id)
        .order_by(entitlements.c.start_date, entitlements.c.entitlement_id)
    )
    return {**row, "lines": [dict(r) for r in lines.mappings()], "entitlements": [dict(r) for r in granted.mappings()]}


async def search_contracts(
    conn: AsyncConnection, *, account: str | None, state: str | None, number: str | None, after: UUID | None, limit: int,
) -> list[dict]:
    query = sa.select(service_contracts).order_by(service_contracts.c.contract_id).limit(limit)
    if account:
        query = query.where(service_contracts.c.account == account)
    if state:
        query = query.where(service_contracts.c.state == state)
    if number:
        query = query.where(service_contracts.c.number == number)
    if after:
        query = query.where(service_contracts.c.contract_id > after)
    return [dict(r) for r in (await conn.execute(query)).mappings()]


async def get_sold_product(conn: AsyncConnection, sold_product_id: UUID) -> dict | None:
    query = sa.select(sold_products).where(sold_products.c.sold_product_id == sold_product_id)
    return (await conn.execute(query)).mappings().one_or_none()


async def get_install_base_item(conn: AsyncConnection, install_base_item_id: UUID) -> dict | None:
    query = sa.select(install_base_items).where(install_base_items.c.install_base_item_id == install_base_item_id)
    return (await conn.execute(query)).mappings().one_or_none()


async def clear(conn: AsyncConnection) -> None:
    await conn.execute(sa.text("TRUNCATE service_contracts, contract_lines, entitlements, sold_products, install_base_items"))
