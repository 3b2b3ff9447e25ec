"""The feed index (adapters/calendar_index.py) follows operations' own events, consumed from its
topics like any downstream consumer would: what a calendar feed shows of contracts (end date,
owners, the assets they cover) and of assets (site, owner) depends on the events alone, not on the
use cases that record them. The consumer's inbox makes each event take effect once; the handlers
write what the event says (upserts), so a replay from the start rebuilds the same rows."""

from shared.backbone.unit_of_work import UnitOfWork
from shared.events.assets import AssetRegistered, AssetRevised
from shared.events.coverage import (
    AssetLinked, AssetUnlinked, CoverageOpened, OperationalContractCanceled, OperationalTermsSet,
    VendorContractRegistered, VendorContractRevised,
)
from shared.events.envelope import Envelope


def _index(uow: UnitOfWork):
    return uow.views.calendar


async def vendor_contract_registered(uow: UnitOfWork, envelope: Envelope) -> None:
    event: VendorContractRegistered = envelope.event
    t = event.terms
    await _index(uow).save_contract(event.contract_id, envelope.time, number=t.number, name=t.name, vendor=t.vendor,
                                    end_date=t.end_date, owners=list(event.operational.owners))


async def vendor_contract_revised(uow: UnitOfWork, envelope: Envelope) -> None:
    event: VendorContractRevised = envelope.event
    t = event.terms
    await _index(uow).save_contract(event.contract_id, envelope.time, number=t.number, name=t.name, vendor=t.vendor,
                                    end_date=t.end_date)


async def coverage_opened(uow: UnitOfWork, envelope: Envelope) -> None:
    event: CoverageOpened = envelope.event
    await _index(uow).save_contract(event.contract_id, envelope.time, number=event.number, name=event.name,
                                    end_date=event.end_date)


async def operational_terms_set(uow: UnitOfWork, envelope: Envelope) -> None:
    event: OperationalTermsSet = envelope.event
    await _index(uow).save_contract(event.contract_id, envelope.time, owners=list(event.operational.owners))


async def contract_canceled(uow: UnitOfWork, envelope: Envelope) -> None:
    event: OperationalContractCanceled = envelope.event
    await _index(uow).save_contract(event.contract_id, envelope.time, canceled=True)


async def asset_linked(uow: UnitOfWork, envelope: Envelope) -> None:
    event: AssetLinked = envelope.event
    await _index(uow).link(event.contract_id, event.asset_id)


async def asset_unlinked(uow: UnitOfWork, envelope: Envelope) -> None:
    event: AssetUnlinked = envelope.event
    await _index(uow).unlink(event.contract_id, event.asset_id)


async def asset_recorded(uow: UnitOfWork, envelope: Envelope) -> None:
    event: AssetRegistered | AssetRevised = envelope.event
    await _index(uow).save_asset(event.asset_id, event.details.site, event.details.owner)


HANDLERS = {
    VendorContractRegistered: vendor_contract_registered,
    VendorContractRevised: vendor_contract_revised,
    CoverageOpened: coverage_opened,
    OperationalTermsSet: operational_terms_set,
    OperationalContractCanceled: contract_canceled,
    AssetLinked: asset_linked,
    AssetUnlinked: asset_unlinked,
    AssetRegistered: asset_recorded,
    AssetRevised: asset_recorded,
}
