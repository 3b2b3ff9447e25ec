"""Whether a contract covers an asset on a date, and why not (docs/design/operations.md, "Coverage"):
pure rules over the facts the coverage index keeps of links and contracts, so a proof, the
uncovered list and the lapse evaluation all decide alike."""

import datetime as dt
from dataclasses import dataclass
from typing import Literal
from uuid import UUID

from shared.events.assets import LapseReason

NotCovering = Literal["link_not_started", "link_ended", "contract_not_started", "contract_ended",
                      "contract_canceled", "contract_draft"]


@dataclass(frozen=True)
class ContractFact:
    """A contract as the coverage index knows it (at some time)."""

    contract_id: UUID
    number: str | None
    name: str | None
    contract_model: str | None
    origin: str
    state: str
    start_date: dt.date
    end_date: dt.date
    canceled_on: dt.date | None
    sla: dict | None
    warranty: dict | None


@dataclass(frozen=True)
class LinkFact:
    contract_id: UUID
    asset_id: str
    effective_from: dt.date | None
    effective_to: dt.date | None
    carried_from: UUID | None


@dataclass(frozen=True)
class Linked:
    """A link with its contract, as known at one time."""

    link: LinkFact
    contract: ContractFact

    @property
    def covers_from(self) -> dt.date:
        return max(self.contract.start_date, self.link.effective_from or self.contract.start_date)

    @property
    def covers_to(self) -> dt.date:
        """The last day it can cover (link end, contract end, the day before a cancellation)."""
        last = min(self.contract.end_date, self.link.effective_to or self.contract.end_date)
        if self.contract.canceled_on is not None:
            last = min(last, self.contract.canceled_on - dt.timedelta(days=1))
        return last


def why_not(linked: Linked, on: dt.date) -> NotCovering | None:
    """None when `linked` covers its asset on `on`; else the first reason it does not."""
    contract, link = linked.contract, linked.link
    if contract.state == "canceled" and contract.canceled_on is not None and contract.canceled_on <= on:
        return "contract_canceled"
    if on < contract.start_date:
        return "contract_not_started"
    if on > contract.end_date:
        return "contract_ended"
    if contract.state == "draft":
        return "contract_draft"
    if link.effective_from is not None and on < link.effective_from:
        return "link_not_started"
    if link.effective_to is not None and on > link.effective_to:
        return "link_ended"
    return None


def covering(links: list[Linked], on: dt.date) -> list[Linked]:
    return [linked for linked in links if why_not(linked, on) is None]


def covered_until(links: list[Linked], on: dt.date) -> dt.date | None:
    """The last day of the coverage that holds on `on` without a gap (a draft contract counts from its
    start, as the scheduler activates it then); None when not covered on `on`."""
    if not covering(links, on):
        return None
    spans = sorted((linked.covers_from, linked.covers_to) for linked in links
                   if linked.contract.state in ("active", "draft") or why_not(linked, on) is None)
    until = on - dt.timedelta(days=1)
    for start, end in spans:
        if start <= until + dt.timedelta(days=1):
            until = max(until, end)
    return until


LAPSE_REASON_OF: dict[str, LapseReason] = {
    "contract_ended": "contract_expired", "contract_canceled": "contract_canceled", "link_ended": "link_ended",
    "link_not_started": "link_changed", "contract_not_started": "contract_changed", "contract_draft": "contract_changed",
}


def last_cover(links: list[Linked], on: dt.date) -> tuple[UUID | None, LapseReason]:
    """Of an asset no longer covered on `on`: the contract whose coverage ended last, and why. No link
    left (unlinked) is a link change."""
    ended = [linked for linked in links if linked.covers_from <= on]
    if not ended:
        return None, "link_changed"
    last = max(ended, key=lambda linked: (linked.covers_to, str(linked.contract.contract_id)))
    return last.contract.contract_id, LAPSE_REASON_OF[why_not(last, on) or "contract_draft"]
