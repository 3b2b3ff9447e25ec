"""The shared contract read model: one row per contract with what every service said of it.

Events of different services arrive on different topics in no guaranteed relative order, so
every write is a merge that gives the same row whatever the order: terms come from CLM, the
state only ever moves forward (draft < active < expired), assets accumulate. The request's
columns come from clm's one stream per contract: each keeps what the latest event that set it
says, by stream version (`merge_request`). Times stored are
the events' own, never the time of processing, so a rebuild reproduces the rows exactly.
"""

import datetime as dt
import functools
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncConnection

metadata = sa.MetaData()

contracts = sa.Table(
    "contracts",
    metadata,
    sa.Column("contract_id", sa.Uuid, primary_key=True),
    sa.Column("number", sa.Text),
    sa.Column("title", sa.Text),
    sa.Column("contract_model", sa.Text),
    sa.Column("state", sa.Text),
    sa.Column("start_date", sa.Date),
    sa.Column("end_date", sa.Date),
    sa.Column("time_zone", sa.Text),
    sa.Column("parties", JSONB),
    sa.Column("expires_at", sa.DateTime(timezone=True)),
    sa.Column("expired_at", sa.DateTime(timezone=True)),
    sa.Column("service_contract_number", sa.Text),
    # The request (clm, phase 1): a row exists from ContractRequested on.
    sa.Column("request_state", sa.Text),
    sa.Column("request_state_since", sa.DateTime(timezone=True)),
    sa.Column("origin", sa.Text),
    sa.Column("quote_id", sa.Uuid),
    sa.Column("opportunity_id", sa.Text),
    sa.Column("classification", sa.Text),
    sa.Column("queue", sa.Text),
    sa.Column("assignee", sa.Text),
    sa.Column("assignee_role", sa.Text),
    sa.Column("currency", sa.Text),
    sa.Column("deal_size", sa.Numeric),
    sa.Column("request_versions", JSONB),  # field -> stream version of the request event that set it
    # Drafting and negotiation (clm, phases 2-3): set through merge_request, as the request's columns
    # (clm's contract stream orders them); the counts are recounted by negotiation_records.py.
    sa.Column("template_id", sa.Uuid),
    sa.Column("template_version", sa.Integer),
    sa.Column("template_kind", sa.Text),
    sa.Column("current_version_number", sa.Integer),
    sa.Column("current_version_sha256", sa.Text),
    sa.Column("current_version_author", sa.Text),
    sa.Column("current_version_origin", sa.Text),
    sa.Column("current_version_added_at", sa.DateTime(timezone=True)),
    sa.Column("liability_cap", sa.Numeric),
    sa.Column("liability_cap_currency", sa.Text),
    sa.Column("auto_renewal", sa.Boolean),
    sa.Column("payment_days", sa.Integer),
    sa.Column("governing_law", sa.Text),
    sa.Column("open_deviations", sa.Integer),
    sa.Column("open_comments", sa.Integer),
    # The shared record of operations (asset_coverage): vendor contracts and the operational side of
    # any contract (docs/design/operations.md, "The shared contract record"); see OPERATIONAL_COLUMNS.
    sa.Column("contract_origin", sa.Text),  # contracting | operations (`origin` is the request's: quote | self_service)
    sa.Column("vendor", sa.Text),
    sa.Column("vendor_contract_number", sa.Text),
    sa.Column("customer", sa.Text),
    sa.Column("parent_id", sa.Uuid),  # the predecessor a renewal succeeds
    sa.Column("canceled_on", sa.Date),
    sa.Column("cancel_reason", sa.Text),
    sa.Column("owners", JSONB),
    sa.Column("sla_response_hours", sa.Numeric),
    sa.Column("sla_resolution_hours", sa.Numeric),
    sa.Column("service_hours", sa.Text),
    sa.Column("warranty_terms", sa.Text),
    sa.Column("warranty_until", sa.Date),
    sa.Column("renewable", sa.Boolean),
    sa.Column("renewal_options", sa.Text),
    sa.Column("renewal_notice_days", sa.Integer),
    sa.Column("payment_amount", sa.Numeric),
    sa.Column("payment_schedule", sa.Text),
    sa.Column("cost_per_unit", sa.Numeric),
    sa.Column("cost_center", sa.Text),
    sa.Column("po_number", sa.Text),
    sa.Column("tax", sa.Numeric),
    sa.Column("cost_currency", sa.Text),  # the costs' currency (`currency` is the request's deal)
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("contracts_state_end", "state", "end_date"),
    sa.Index("contracts_vendor", "vendor", "contract_id"),
    sa.Index("contracts_origin", "contract_origin", "contract_id"),
    sa.Index("contracts_request_state", "request_state", "contract_id"),
    sa.Index("contracts_classification", "classification", "contract_id"),
)

contract_assets = sa.Table(
    "contract_assets",
    metadata,
    sa.Column("contract_id", sa.Uuid, primary_key=True),
    sa.Column("asset_id", sa.Text, primary_key=True),
    sa.Column("asset_name", sa.Text, nullable=False),
    sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("effective_from", sa.Date),  # none: from the contract's start
    sa.Column("effective_to", sa.Date),  # none: to the contract's end
    sa.Column("carried_from", sa.Uuid),  # the predecessor contract the link came from
    sa.Index("contract_assets_asset", "asset_id"),
)

# Expired and canceled are terminal; a contract is never both (asset_coverage refuses it).
STATE_ORDER = {None: 0, "draft": 1, "active": 2, "expired": 3, "canceled": 4}


async def merge_contract(conn: AsyncConnection, contract_id: UUID, at: dt.datetime, *, state: str | None = None, **fields) -> None:
    current = (
        await conn.execute(sa.select(contracts.c.state, contracts.c.updated_at).where(contracts.c.contract_id == contract_id).with_for_update())
    ).one_or_none()
    values = dict(fields)
    if state is not None and (current is None or STATE_ORDER[state] > STATE_ORDER[current.state]):
        values["state"] = state
    values["updated_at"] = max(at, current.updated_at) if current else at
    statement = insert(contracts).values(contract_id=contract_id, **values)
    await conn.execute(statement.on_conflict_do_update(index_elements=[contracts.c.contract_id], set_=values))


@functools.cache
def _merging_field(column: str) -> sa.TextClause:
    """One statement per column whatever the number of contracts: what `merge_contract` does for
    an event that sets only `column`, for many contracts at once (one row each)."""
    sql_type = contracts.c[column].type.compile(dialect=postgresql.dialect())
    return sa.text(
        f"""INSERT INTO contracts (contract_id, {column}, updated_at)
        SELECT * FROM unnest(CAST(:contract_id AS uuid[]), CAST(:value AS {sql_type}[]), CAST(:at AS timestamptz[]))
        ON CONFLICT (contract_id) DO UPDATE
        SET {column} = excluded.{column}, updated_at = GREATEST(contracts.updated_at, excluded.updated_at)"""
    )


async def merge_contract_field(conn: AsyncConnection, column: str, changes: list[tuple[UUID, object, dt.datetime]]) -> None:
    """`merge_contract(conn, contract_id, at, **{column: value})` for each (contract_id, value, at)
    in order, in one statement: each contract gets its last value and the latest of the times."""
    last: dict[UUID, tuple[object, dt.datetime]] = {}
    for contract_id, value, at in changes:
        earlier = last.get(contract_id)
        last[contract_id] = (value, max(at, earlier[1]) if earlier else at)
    if last:
        await conn.execute(_merging_field(column), {
            "contract_id": list(last), "value": [v for v, _ in last.values()], "at": [at for _, at in last.values()]})


async def origin_of(conn: AsyncConnection, contract_id: UUID) -> str | None:
    return (await conn.execute(sa.select(contracts.c.contract_origin).where(contracts.c.contract_id == contract_id))
            ).scalar_one_or_none()


async def merge_request(conn: AsyncConnection, contract_id: UUID, at: dt.datetime, stream_version: int, **fields) -> None:
    """What an event of clm's contract stream says (the request, versions, negotiated terms): each field keeps the value of the latest event of clm's stream
    that set it (`request_versions`: field -> stream version), so the row is the same in whatever
    order the events arrive, and an event applied again changes nothing."""
    statement = insert(contracts).values(
        contract_id=contract_id, updated_at=at, request_versions={name: stream_version for name in fields}, **fields)
    seen = contracts.c.request_versions

    def set_by(name: str):  # the stream version of the event that last set `name`, 0 for none
        return sa.func.coalesce(seen[name].astext.cast(sa.Integer), 0)

    updates = {name: sa.case((set_by(name) < stream_version, statement.excluded[name]), else_=contracts.c[name])
               for name in fields}
    latest = sa.func.jsonb_build_object(*[part for name in fields for part in (name, sa.func.greatest(set_by(name), stream_version))])
    updates["request_versions"] = sa.func.coalesce(seen, sa.cast(sa.literal("{}"), JSONB)).op("||")(latest)
    updates["updated_at"] = sa.func.greatest(contracts.c.updated_at, statement.excluded.updated_at)
    await conn.execute(statement.on_conflict_do_update(index_elements=[contracts.c.contract_id], set_=updates))


async def link_asset(conn: AsyncConnection, contract_id: UUID, asset_id: str, asset_name: str, at: dt.datetime,
                     effective_from: dt.date | None = None, effective_to: dt.date | None = None,
                     carried_from: UUID | None = None) -> None:
    await conn.execute(
        insert(contract_assets)
        .values(contract_id=contract_id, asset_id=asset_id, asset_name=asset_name, linked_at=at,
                effective_from=effective_from, effective_to=effective_to, carried_from=carried_from)
        .on_conflict_do_nothing()
    )


async def link_of(conn: AsyncConnection, contract_id: UUID, asset_id: str):
    return (await conn.execute(sa.select(contract_assets).where(
        contract_assets.c.contract_id == contract_id, contract_assets.c.asset_id == asset_id))).one_or_none()


async def revise_link(conn: AsyncConnection, contract_id: UUID, asset_id: str, effective_from: dt.date | None,
                      effective_to: dt.date | None) -> None:
    await conn.execute(contract_assets.update().where(
        contract_assets.c.contract_id == contract_id, contract_assets.c.asset_id == asset_id,
    ).values(effective_from=effective_from, effective_to=effective_to))


async def unlink_asset(conn: AsyncConnection, contract_id: UUID, asset_id: str) -> None:
    await conn.execute(contract_assets.delete().where(
        contract_assets.c.contract_id == contract_id, contract_assets.c.asset_id == asset_id))


ASSET_COLUMNS = ("asset_id", "asset_name", "linked_at", "effective_from", "effective_to", "carried_from")


async def get(conn: AsyncConnection, contract_id: UUID) -> dict | None:
    row = (await conn.execute(sa.select(contracts).where(contracts.c.contract_id == contract_id))).mappings().one_or_none()
    if row is None:
        return None
    assets = await conn.execute(
        sa.select(*(contract_assets.c[name] for name in ASSET_COLUMNS))
        .where(contract_assets.c.contract_id == contract_id)
        .order_by(contract_assets.c.asset_id)
    )
    return {**row, "assets": [dict(a._mapping) for a in assets]}


async def search(
    conn: AsyncConnection, *, state: str | None, party: str | None, ends_before: dt.date | None,
    after: UUID | None, limit: int, request_state: str | None = None, classification: str | None = None,
    contract_origin: str | None = None, vendor: str | None = None, contract_model: str | None = None,
    asset_id: str | None = None,
) -> list[dict]:
    query = sa.select(contracts).order_by(contracts.c.contract_id).limit(limit)
    if contract_origin:
        query = query.where(contracts.c.contract_origin == contract_origin)
    if vendor:
        query = query.where(sa.func.lower(contracts.c.vendor) == vendor.lower())
    if contract_model:
        query = query.where(contracts.c.contract_model == contract_model)
    if asset_id:
        query = query.where(sa.exists().where(contract_assets.c.contract_id == contracts.c.contract_id,
                                              contract_assets.c.asset_id == asset_id))
    if state:
        query = query.where(contracts.c.state == state)
    if request_state:
        query = query.where(contracts.c.request_state == request_state)
    if classification:
        query = query.where(contracts.c.classification == classification)
    if party:
        query = query.where(sa.cast(contracts.c.parties, sa.Text).ilike(f"%{party}%"))
    if ends_before:
        query = query.where(contracts.c.end_date < ends_before)
    if after:
        query = query.where(contracts.c.contract_id > after)
    rows = [dict(r) for r in (await conn.execute(query)).mappings()]
    if rows:
        ids = [r["contract_id"] for r in rows]
        assets: dict = {i: [] for i in ids}
        for a in await conn.execute(
            sa.select(contract_assets).where(contract_assets.c.contract_id.in_(ids)).order_by(contract_assets.c.asset_id)
        ):
            assets[a.contract_id].append({name: getattr(a, name) for name in ASSET_COLUMNS})
        for r in rows:
            r["assets"] = assets[r["contract_id"]]
    return rows


async def clear(conn: AsyncConnection) -> None:
    await conn.execute(sa.text("TRUNCATE contracts, contract_assets, contract_history"))
