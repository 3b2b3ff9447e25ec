"""The service contract running on after its legal contract renewed tacitly (clm's ContractRenewed):
the named exception to "once out of Draft, dates lock" (`rules.RENEWAL_APPLIES_APPROVED_RENEWALS`).

What ended with the legal contract's period runs on with it: the contract's end date, and each open
line and entitlement whose end date is that period's end, move to the new period's end. Items that
end earlier were dated on purpose (a disconnect, a shorter entitlement) and stay; expired and
canceled ones are terminal. Suspended items move too: a suspension pauses an item, it does not
date it. The events are the date changes consumers already follow, so the scheduler moves the
expiry timers and the projection the dates."""

import datetime as dt

from shared.backbone.errors import invalid
from shared.events.orders import ContractLineDatesChanged, EntitlementDatesChanged, ServiceContractDatesChanged
from services.order_sync.domain import rules
from services.order_sync.domain.rules import TERMINAL
from services.order_sync.domain.service_contract.items import ContractLine
from services.order_sync.domain.service_contract.life_cycle import LifeCycle


class RenewalCommands(LifeCycle):
    def renew(self, previous_end: dt.date, new_end: dt.date) -> None:
        """Moves what ends on `previous_end` to `new_end`. A terminal contract stays as it is, and a
        renewal applied already (nothing ends on `previous_end` any more) records nothing."""
        if new_end <= previous_end:
            raise invalid(rules.RENEWAL_END_NOT_LATER,
                          f"a renewal ends after the period it renews: {new_end} is not after {previous_end}", "end_date")
        if self.state in TERMINAL:
            return
        if self.end_date == previous_end:
            self.record(ServiceContractDatesChanged(contract_id=self.contract_id, start_date=self.start_date,
                                                    end_date=new_end))
        # Lines first: an entitlement on a line may only move once its line has.
        for item in self._open_items():
            if item.end_date != previous_end:
                continue
            start, end, _ = self._bounds_of(item)
            if new_end > end:  # its parent did not run on (it ended on another date): neither does the item
                continue
            if isinstance(item, ContractLine):
                self.record(ContractLineDatesChanged(contract_id=self.contract_id, line_id=item.line_id,
                                                     start_date=item.start_date, end_date=new_end))
            else:
                self.record(EntitlementDatesChanged(contract_id=self.contract_id, entitlement_id=item.entitlement_id,
                                                    start_date=item.start_date, end_date=new_end))
