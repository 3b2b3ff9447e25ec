"""Property-based (hypothesis stateful): random sequences of commands, product suspensions and
clock moves never break a life-cycle invariant of docs/domain.md "Service contract life cycle".

The machine plays the platform: commands go to the domain model exactly as the use cases call it,
product suspensions go through `install_base.suspend/resume`, and a clock move is answered the way
the scheduler's timers make order sync answer it (`reach(today)`). Refused commands are fine; an
invariant broken after any step is not."""

import datetime as dt
import uuid
from decimal import Decimal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from shared.backbone.errors import DomainError
from services.order_sync.domain import install_base
from services.order_sync.domain.install_base import InstallBaseItem, SoldProduct
from services.order_sync.domain.rules import TERMINAL
from services.order_sync.domain.service_contract import ContractLine, Entitlement, ServiceContract

BASE = dt.date(2027, 1, 1)
offsets = st.integers(min_value=0, max_value=30)
lengths = st.integers(min_value=0, max_value=30)


def day(n: int) -> dt.date:
    return BASE + dt.timedelta(days=n)


class ServiceContractLifeCycle(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.today = day(0)
        self.products = [
            SoldProduct.record_new(uuid.uuid4(), account="ACME", product="CNC mill", quantity=1),
            InstallBaseItem.record_new(uuid.uuid4(), account="ACME", name="mill #1", site="Plant 4"),
        ]
        self.contracts: list[ServiceContract] = []
        self.history: dict[str, list] = {}
        self.terminal_seen: dict[tuple, str] = {}
        self.start_when_active: dict[str, dt.date] = {}
        self.reached = True

    # -- helpers ------------------------------------------------------------------------------

    @property
    def suspended(self) -> set[uuid.UUID]:
        return {p.product_id for p in self.products if p.suspended}

    def _save(self, *contracts: ServiceContract) -> None:
        for c in contracts:
            self.history.setdefault(c.id, []).extend(c.pending_events)
            c.mark_persisted()
        for p in self.products:
            p.mark_persisted()

    def _attempt(self, contract: ServiceContract, command, *, child: bool) -> None:
        parent_before = (contract.state, contract.start_date, contract.end_date)
        try:
            command()
        except DomainError:
            assert contract.pending_events == [], "a refused command records nothing"
        if child:
            assert (contract.state, contract.start_date, contract.end_date) == parent_before, "a child changed its parent"
        self._save(contract)
        self.reached = False

    @staticmethod
    def _dates_near(parent, start: int, length: int) -> tuple[dt.date, dt.date]:
        """Dates around the parent's, mostly inside them: where the interesting cases are."""
        first = parent.start_date + dt.timedelta(days=start - 5)
        return first, first + dt.timedelta(days=length)

    def _covers(self, choice: int) -> dict:
        p = self.products[choice % 3] if choice % 3 < 2 else None
        if p is None:
            return {}
        return {"sold_product_id": p.product_id} if isinstance(p, SoldProduct) else {"install_base_item_id": p.product_id}

    # -- commands -------------------------------------------------------------------------------

    @precondition(lambda self: len(self.contracts) < 3)
    @rule(start=offsets, length=lengths)
    def draft_contract(self, start, length):
        try:
            c = ServiceContract.draft(uuid.uuid4(), number="SC", account="ACME", start_date=day(start),
                                      end_date=day(start + length), suspended=self.suspended)
        except DomainError:
            return
        self.contracts.append(c)
        self._save(c)
        self.reached = False

    @precondition(lambda self: self.contracts)
    @rule(data=st.data(), start=offsets, length=lengths, covers=st.integers(0, 2))
    def add_line(self, data, start, length, covers):
        c = data.draw(st.sampled_from(self.contracts))
        start_date, end_date = self._dates_near(c, start, length)
        ln = ContractLine(uuid.uuid4(), "support", 1, Decimal("10"), start_date, end_date, **self._covers(covers))
        self._attempt(c, lambda: c.add_line(ln, self.today, self.suspended & ln.covers), child=True)

    @precondition(lambda self: self.contracts)
    @rule(data=st.data(), start=offsets, length=lengths, covers=st.integers(0, 2), on_line=st.booleans())
    def add_entitlement(self, data, start, length, covers, on_line):
        c = data.draw(st.sampled_from(self.contracts))
        line_id = data.draw(st.sampled_from(list(c.lines))) if on_line and c.lines else None
        start_date, end_date = self._dates_near(c.lines[line_id] if line_id else c, start, length)
        ent = Entitlement(uuid.uuid4(), "onsite-repair", start_date, end_date, line_id=line_id, **self._covers(covers))
        self._attempt(c, lambda: c.add_entitlement(ent, self.today, self.suspended), child=True)

    @precondition(lambda self: self.contracts)
    @rule(data=st.data(), start=offsets, length=lengths)
    def change_contract_dates(self, data, start, length):
        c = data.draw(st.sampled_from(self.contracts))
        start_date, end_date = self._dates_near(c, start, length)
        self._attempt(c, lambda: c.change_dates(start_date, end_date), child=False)

    @precondition(lambda self: any(c.items() for c in self.contracts))
    @rule(data=st.data(), start=offsets, length=lengths)
    def change_item_dates(self, data, start, length):
        c = data.draw(st.sampled_from([c for c in self.contracts if c.items()]))
        item = data.draw(st.sampled_from(c.items()))
        start_date, end_date = self._dates_near(item, start, length)
        if isinstance(item, ContractLine):
            self._attempt(c, lambda: c.change_line_dates(item.line_id, start_date, end_date), child=True)
        else:
            self._attempt(c, lambda: c.change_entitlement_dates(item.entitlement_id, start_date, end_date), child=True)

    @precondition(lambda self: any(c.lines for c in self.contracts))
    @rule(data=st.data(), quantity=st.integers(1, 9), end=offsets, covers=st.integers(0, 2),
          action=st.sampled_from(["quantity", "disconnect", "coverage", "remove", "cancel"]))
    def change_line(self, data, quantity, end, covers, action):
        c = data.draw(st.sampled_from([c for c in self.contracts if c.lines]))
        line_id = data.draw(st.sampled_from(list(c.lines)))
        refs = self._covers(covers)
        command = {
            "quantity": lambda: c.change_line_quantity(line_id, quantity),
            "disconnect": lambda: c.disconnect_line(line_id, self.today + dt.timedelta(days=end), self.today),
            "coverage": lambda: c.change_line_coverage(line_id, refs.get("sold_product_id"), refs.get("install_base_item_id"),
                                                       self.today, self.suspended),
            "remove": lambda: c.remove_line(line_id),
            "cancel": lambda: c.cancel_line(line_id, self.today),
        }[action]
        self._attempt(c, command, child=True)

    @precondition(lambda self: any(c.entitlements for c in self.contracts))
    @rule(data=st.data(), action=st.sampled_from(["edit", "remove", "cancel"]))
    def change_entitlement(self, data, action):
        c = data.draw(st.sampled_from([c for c in self.contracts if c.entitlements]))
        ent_id = data.draw(st.sampled_from(list(c.entitlements)))
        command = {
            "edit": lambda: c.edit_entitlement(ent_id, sla=f"{data.draw(st.integers(1, 8))}h response"),
            "remove": lambda: c.remove_entitlement(ent_id),
            "cancel": lambda: c.cancel_entitlement(ent_id, self.today),
        }[action]
        self._attempt(c, command, child=True)

    @precondition(lambda self: self.contracts)
    @rule(data=st.data())
    def cancel_contract(self, data):
        c = data.draw(st.sampled_from(self.contracts))
        self._attempt(c, lambda: c.cancel(self.today), child=False)

    @rule(which=st.integers(0, 1))
    def suspend_or_resume_product(self, which):
        product = self.products[which]
        covering = [c for c in self.contracts if product.product_id in c.covered_products()]
        try:
            if product.suspended:
                install_base.resume(product, covering, self.today, self.suspended)
            else:
                install_base.suspend(product, covering, self.today)
        except DomainError:
            raise AssertionError("suspend/resume from the opposite state is always allowed")
        self._save(*covering)
        self.reached = False

    @rule(days=st.integers(0, 15))
    def clock_moves(self, days):
        """Time passes; the scheduler's timers make every contract reach today."""
        self.today += dt.timedelta(days=days)
        for c in self.contracts:
            c.reach(self.today)
        self._save(*self.contracts)
        self.reached = True

    # -- invariants -------------------------------------------------------------------------------

    @invariant()
    def children_lie_within_their_parents(self):
        for c in self.contracts:
            for item in c.items():
                if item.state in TERMINAL:
                    continue
                assert c.start_date <= item.start_date <= item.end_date <= c.end_date, (c.id, item)
                if isinstance(item, Entitlement) and item.line_id:
                    line = c.lines[item.line_id]
                    assert line.start_date <= item.start_date and item.end_date <= line.end_date, (line, item)

    @invariant()
    def a_terminal_contract_has_only_terminal_children(self):
        for c in self.contracts:
            if c.state in TERMINAL:
                assert all(i.state in TERMINAL for i in c.items()), c.id

    @invariant()
    def items_and_what_they_cover_are_in_the_same_state(self):
        suspended = self.suspended
        for c in self.contracts:
            for item in c.items():
                if item.state not in TERMINAL:
                    assert (item.state == "suspended") == bool(c.covered_by(item) & suspended), item

    @invariant()
    def terminal_is_forever(self):
        for c in self.contracts:
            for key, state in [((c.id,), c.state)] + [((c.id, i.item_id), i.state) for i in c.items()]:
                if key in self.terminal_seen:
                    assert state == self.terminal_seen[key], f"{key} left {self.terminal_seen[key]}"
                elif state in TERMINAL:
                    self.terminal_seen[key] = state

    @invariant()
    def an_active_contracts_start_date_never_changes(self):
        for c in self.contracts:
            if c.state != "draft":
                assert self.start_when_active.setdefault(c.id, c.start_date) == c.start_date

    @invariant()
    def once_time_is_reached_states_are_what_the_dates_say(self):
        if not self.reached:
            return
        for c in self.contracts:
            if c.state != "canceled":
                expected = "draft" if self.today < c.start_date else "expired" if self.today > c.end_date else "active"
                assert c.state == expected, (c.state, self.today, c.start_date, c.end_date)
            for item in c.items():
                if item.state in ("draft", "active"):
                    assert item.state == c.state_by_dates(item, self.today), (item, self.today)
                if item.state != "expired" and item.state != "canceled":
                    assert self.today <= item.end_date, f"{item} outlived its end date"

    @invariant()
    def state_is_rebuilt_from_the_events(self):
        for c in self.contracts:
            loaded = ServiceContract.rehydrate(c.id, self.history[c.id])
            assert (loaded.state, loaded.start_date, loaded.end_date) == (c.state, c.start_date, c.end_date)
            assert loaded.lines == c.lines and loaded.entitlements == c.entitlements


ServiceContractLifeCycle.TestCase.settings = settings(
    max_examples=400, stateful_step_count=40, deadline=None, suppress_health_check=[HealthCheck.too_slow],
)
TestServiceContractLifeCycle = ServiceContractLifeCycle.TestCase
