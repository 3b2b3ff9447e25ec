"""A link's date reached (the scheduler's AssetLinkDateReached): the asset's coverage is evaluated
for that date, and its Asset records CoverageLapsed / CoverageRestored if it flipped."""

from shared.backbone.unit_of_work import UnitOfWork
from shared.events.envelope import Envelope
from shared.events.link_dates import AssetLinkDateReached
from services.asset_coverage.application.following import evaluate


async def reach_link_date(uow: UnitOfWork, envelope: Envelope) -> None:
    event: AssetLinkDateReached = envelope.event
    await evaluate(uow, [event.asset_id], event.on)  # a flipped asset's row follows its event
