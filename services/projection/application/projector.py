"""Applies every service's events to the shared contract read model, and commerce's to the
service contract read model."""

from shared.backbone.unit_of_work import UnitOfWork
from shared.events.contracts import ContractActivated, ContractDrafted
from shared.events.coverage import AssetLinked
from shared.events.lifecycle import ContractExpired, ExpiryScheduled
from shared.events.orders import ServiceContractRecorded
from shared.events.envelope import Envelope
from services.projection.adapters import read_model
from services.projection.application import service_contracts

SUBSCRIBED_TOPICS = sorted({cls.topic for cls in (ContractDrafted, AssetLinked, ContractExpired, *service_contracts.EVENTS)})
CONSUMER_NAME = "projection"


async def project(uow: UnitOfWork, envelope: Envelope) -> None:
    event, at, conn = envelope.event, envelope.time, uow.conn
    if isinstance(event, service_contracts.EVENTS):
        await service_contracts.project(conn, event, at)
    match event:
        case ContractDrafted() | ContractActivated():
            await read_model.merge_contract(
                conn, event.contract_id, at,
                state="draft" if isinstance(event, ContractDrafted) else "active",
                number=event.number, title=event.title, contract_model=event.contract_model,
                start_date=event.start_date, end_date=event.end_date, time_zone=event.time_zone,
                parties=[p.model_dump() for p in event.parties],
            )
        case AssetLinked():
            await read_model.link_asset(conn, event.contract_id, event.asset_id, event.asset_name, at)
        case ServiceContractRecorded():
            await read_model.merge_contract(conn, event.contract_id, at, service_contract_number=event.number)
        case ExpiryScheduled():
            await read_model.merge_contract(conn, event.contract_id, at, expires_at=event.due_at)
        case ContractExpired():
            await read_model.merge_contract(conn, event.contract_id, at, state="expired", expired_at=event.expired_at)
