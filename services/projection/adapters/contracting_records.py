"""Phases 4-6 on the shared contract record: the approval steps of each round, the signers of each
envelope, and one progress row per contract (approval, signature, execution, activation, order,
service contract, reconciliation).

Each table is written by the events of one stream (clm's contract stream for approvals, signature,
execution and activation; an order's stream; the contract's reconciliation stream), which arrive
in order on their topic: each handler changes the row as the previous event of its stream left it.
Different streams write different columns, so their relative order does not matter. Times stored
are the events' own, so a rebuild reproduces the rows exactly."""

import datetime as dt
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.projection.adapters.contract_records import metadata

approval_steps = sa.Table(
    "contract_approval_steps", metadata,
    sa.Column("contract_id", sa.Uuid, primary_key=True),
    sa.Column("step_id", sa.Uuid, primary_key=True),
    sa.Column("round", sa.Integer, nullable=False),
    sa.Column("position", sa.Integer, nullable=False),  # n of step_id = uuid5(contract, f"{round}/{n}")
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("sequence", sa.Integer, nullable=False),
    sa.Column("approvers", JSONB, nullable=False),  # of the current level
    sa.Column("informed_roles", JSONB, nullable=False),
    sa.Column("sla", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),  # waiting | open | granted | rejected | closed | invalidated
    sa.Column("level", sa.Integer, nullable=False),
    sa.Column("opened_at", sa.DateTime(timezone=True)),
    sa.Column("at_risk_at", sa.DateTime(timezone=True)),
    sa.Column("due_at", sa.DateTime(timezone=True)),
    sa.Column("at_risk_since", sa.DateTime(timezone=True)),
    sa.Column("escalated_at", sa.DateTime(timezone=True)),
    sa.Column("decided_by", sa.Text),
    sa.Column("decided_roles", JSONB),
    sa.Column("decided_at", sa.DateTime(timezone=True)),
    sa.Column("comment", sa.Text),
)

signers = sa.Table(
    "contract_signers", metadata,
    sa.Column("envelope_id", sa.Uuid, primary_key=True),
    sa.Column("signer_id", sa.Uuid, primary_key=True),
    sa.Column("contract_id", sa.Uuid, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("email", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("routing_order", sa.Integer, nullable=False),
    sa.Column("state", sa.Text, nullable=False),  # waiting | invited | viewed | signed | declined
    sa.Column("invited_at", sa.DateTime(timezone=True)),
    sa.Column("reminded_at", sa.DateTime(timezone=True)),
    sa.Column("viewed_at", sa.DateTime(timezone=True)),
    sa.Column("signed_at", sa.DateTime(timezone=True)),
    sa.Column("declined_at", sa.DateTime(timezone=True)),
    sa.Column("decline_reason", sa.Text),
    sa.Index("contract_signers_contract", "contract_id"),
)

progress = sa.Table(
    "contract_progress", metadata,
    sa.Column("contract_id", sa.Uuid, primary_key=True),
    # approvals (phase 4)
    sa.Column("approval_round", sa.Integer),
    sa.Column("approval_state", sa.Text),  # awaiting_approval | approved | rejected | invalidated
    sa.Column("approval_version", sa.Integer),  # the version routed for approval
    sa.Column("approved_version", sa.Integer),
    sa.Column("matrix_id", sa.Uuid),
    sa.Column("matrix_version", sa.Integer),
    sa.Column("approval_since", sa.DateTime(timezone=True)),
    sa.Column("approval_reason", sa.Text),  # why approvals were invalidated
    # signature and execution (phase 5)
    sa.Column("envelope_id", sa.Uuid),
    sa.Column("signature_state", sa.Text),  # requested | declined | expired | canceled | executed
    sa.Column("signature_provider", sa.Text),
    sa.Column("provider_envelope_id", sa.Text),
    sa.Column("signature_version", sa.Integer),
    sa.Column("signature_deadline", sa.DateTime(timezone=True)),
    sa.Column("signature_since", sa.DateTime(timezone=True)),
    sa.Column("signature_reason", sa.Text),
    sa.Column("executed_version", sa.Integer),
    sa.Column("executed_sha256", sa.Text),
    sa.Column("signed_document", JSONB),
    sa.Column("audit_certificate", JSONB),
    sa.Column("executed_at", sa.DateTime(timezone=True)),
    # activation, order, service contract, reconciliation (phase 6)
    sa.Column("activation_state", sa.Text),  # blocked | activated
    sa.Column("activation_missing", JSONB),
    sa.Column("activation_at", sa.DateTime(timezone=True)),
    sa.Column("order_id", sa.Uuid),
    sa.Column("order_state", sa.Text),  # created | fulfilled
    sa.Column("order_fallout", JSONB),  # order line id -> its latest fallout, until fulfilled
    sa.Column("order_since", sa.DateTime(timezone=True)),
    sa.Column("service_contract_id", sa.Uuid),
    sa.Column("reconciliation_state", sa.Text),  # reconciled | mismatched
    sa.Column("reconciliation_differences", JSONB),  # announced since the last time it was reconciled
    sa.Column("reconciliation_since", sa.DateTime(timezone=True)),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)


async def merge_progress(conn: AsyncConnection, contract_id: UUID, at: dt.datetime, **values) -> None:
    statement = insert(progress).values(contract_id=contract_id, updated_at=at, **values)
    updates = {**values, "updated_at": sa.func.greatest(progress.c.updated_at, statement.excluded.updated_at)}
    await conn.execute(statement.on_conflict_do_update(index_elements=[progress.c.contract_id], set_=updates))


async def progress_of(conn: AsyncConnection, contract_id: UUID) -> dict | None:
    row = (await conn.execute(sa.select(progress).where(progress.c.contract_id == contract_id))).mappings().one_or_none()
    return dict(row) if row else None


async def add_step(conn: AsyncConnection, contract_id: UUID, step_id: UUID, **values) -> None:
    await conn.execute(insert(approval_steps).values(contract_id=contract_id, step_id=step_id, **values)
                       .on_conflict_do_nothing())


async def update_steps(conn: AsyncConnection, contract_id: UUID, step_ids: list[UUID], *, only_state: tuple[str, ...] = (),
                       **values) -> None:
    where = [approval_steps.c.contract_id == contract_id, approval_steps.c.step_id.in_(step_ids)]
    if only_state:
        where.append(approval_steps.c.state.in_(only_state))
    await conn.execute(approval_steps.update().where(*where).values(**values))


async def update_round(conn: AsyncConnection, contract_id: UUID, round_: int, states: tuple[str, ...], **values) -> None:
    await conn.execute(approval_steps.update().where(
        approval_steps.c.contract_id == contract_id, approval_steps.c.round == round_,
        approval_steps.c.state.in_(states)).values(**values))


async def add_signer(conn: AsyncConnection, envelope_id: UUID, signer_id: UUID, **values) -> None:
    await conn.execute(insert(signers).values(envelope_id=envelope_id, signer_id=signer_id, **values).on_conflict_do_nothing())


async def update_signer(conn: AsyncConnection, envelope_id: UUID, signer_id: UUID, **values) -> None:
    await conn.execute(signers.update().where(signers.c.envelope_id == envelope_id, signers.c.signer_id == signer_id)
                       .values(**values))


STEP_COLUMNS = [c.name for c in approval_steps.columns if c.name != "contract_id"]
SIGNER_COLUMNS = [c.name for c in signers.columns if c.name not in ("contract_id", "envelope_id")]


async def steps_of(conn: AsyncConnection, contract_id: UUID, round_: int) -> list[dict]:
    rows = await conn.execute(sa.select(approval_steps).where(
        approval_steps.c.contract_id == contract_id, approval_steps.c.round == round_).order_by(approval_steps.c.position))
    return [{name: r[name] for name in STEP_COLUMNS} for r in rows.mappings()]


async def signers_of(conn: AsyncConnection, envelope_id: UUID) -> list[dict]:
    rows = await conn.execute(sa.select(signers).where(signers.c.envelope_id == envelope_id)
                              .order_by(signers.c.routing_order, signers.c.name, signers.c.signer_id))
    return [{name: r[name] for name in SIGNER_COLUMNS} for r in rows.mappings()]


async def clear(conn: AsyncConnection) -> None:
    await conn.execute(sa.text("TRUNCATE contract_approval_steps, contract_signers, contract_progress"))
