"""Real events for tests of the mechanics."""

import datetime as dt
import uuid

from shared.backbone.aggregate import Aggregate, applies
from shared.events.contracts import ContractDrafted, Party


def drafted(contract_id: uuid.UUID | None = None, title: str = "Maintenance of line 4") -> ContractDrafted:
    return ContractDrafted(
        contract_id=contract_id or uuid.uuid4(), number="CNT-T", title=title, contract_model="service_contract",
        parties=[Party(role="customer", name="ACME Robotics")], start_date=dt.date(2026, 1, 1),
        end_date=dt.date(2026, 12, 31), time_zone="UTC",
    )


class Note(Aggregate):
    """A tiny aggregate whose every event is a retitled draft: enough to exercise the store."""

    stream_type = "note"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.titles: list[str] = []

    def retitle(self, title: str) -> None:
        self.record(drafted(uuid.UUID(self.id), title))

    @applies
    def _on_contract_drafted(self, event: ContractDrafted) -> None:
        self.titles.append(event.title)


class Memo(Note):
    """Another aggregate type applying the same events as Note: replaying a note's stream as a Memo
    would work, so only the stream's type tells them apart."""

    stream_type = "memo"
