"""Every command of every aggregate against every state: allowed, a no-op, or refused naming its rule.

The public methods of each aggregate are found by introspection and each must be classified here
(field edit, state change, creation, ...), with one row per command giving the outcome in every
state. A command added later without a row fails `test_every_public_method_is_classified`; a row
that lets a state change through while Suspended, or anything through once terminal, fails
`test_the_service_contract_grid_follows_the_life_cycle_rules` (docs/domain.md "Service contract life
cycle")."""

import datetime as dt
import inspect
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable

import pytest

from shared.backbone.aggregate import Aggregate
from shared.backbone.errors import DomainError
from shared.events.contracts import Party, RequestedAccount, RequestTerms
from shared.events.documents import DocumentRef
from shared.events.negotiation import NegotiatedTerms, TemplateUsed
from shared.events.orders import ServiceState
from shared.events.signature import Signer
from services.asset_coverage.domain import rules as ops_rules
from services.asset_coverage.domain.asset import Asset
from services.asset_coverage.domain.operational_contract import OperationalContract
from services.asset_coverage.domain.operational_contract.links import LinkRequest
from shared.events.assets import AssetDetails
from shared.events.coverage import OperationalContractExpired, OperationalTerms, VendorContractTerms
from shared.events.contracts import ContractActivated as _Activated, Party as _Party
from shared.events.renewal_terms import ContractPeriod
from services.clm.domain import rules as clm_rules
from services.clm.domain.approval_matrix import standard_matrix
from services.clm.domain.contract import Contract
from services.clm.domain.obligation import Obligation
from shared.events.obligations import Recurrence
from services.lifecycle_scheduler.domain.obligation_dates import ObligationDates
from services.lifecycle_scheduler.domain.contract_periods import ContractPeriods
from services.lifecycle_scheduler.domain.operational_contract_dates import OperationalContractDates
from services.lifecycle_scheduler.domain.schedule import ContractSchedule
from services.lifecycle_scheduler.domain.timetable import ServiceContractTimetable, activation
from services.order_sync.domain import install_base, rules
from services.order_sync.domain.install_base import InstallBaseItem, SoldProduct
from services.order_sync.domain.service_contract import ContractLine, Entitlement, ServiceContract

D = dt.date
START, END = D(2027, 1, 1), D(2027, 12, 31)
BEFORE, DURING, AFTER = D(2026, 12, 1), D(2027, 6, 1), D(2028, 1, 1)
OCT31, NOV30 = D(2027, 10, 31), D(2027, 11, 30)
DRAFT, ACTIVE, SUSPENDED = ServiceState.DRAFT, ServiceState.ACTIVE, ServiceState.SUSPENDED
EXPIRED, CANCELED = ServiceState.EXPIRED, ServiceState.CANCELED

# What a method is, for the rule "while Suspended only field edits and creating related records".
FIELD_EDIT, STATE_CHANGE, CREATION = "field edit", "state change", "creation"
FOLLOWS_PRODUCT = "follows a product"  # the suspension and resumption the rule itself describes
TIME = "time"  # a date was reached
NEW = "new aggregate"  # creates the aggregate: no state to be refused in
QUERY = "query"

# Outcomes: OK records at least one event, NOOP records nothing; a rule name is a refusal.
OK, NOOP = "ok", "no-op"
TERM, SUSP = rules.STATE_TERMINAL, rules.SUSPENDED_ONLY_FIELD_EDITS
REMOVE_DRAFT, DISCONNECT_ACTIVE = rules.DRAFT_REMOVE_ONLY_IN_DRAFT, rules.MACD_DISCONNECT_ONLY_ACTIVE


def public_methods(cls: type) -> set[str]:
    """Public methods, class and static methods the class adds to Aggregate (properties are state, not commands)."""
    return {name for name, member in inspect.getmembers(cls, callable) if not name.startswith("_") and not hasattr(Aggregate, name)}


def outcome_of(aggregate: Aggregate, command: Callable[[], object]) -> str:
    aggregate.mark_persisted()
    try:
        command()
    except DomainError as refusal:
        assert aggregate.pending_events == [], f"refused ({refusal.rule}) but recorded {aggregate.pending_events}"
        return refusal.rule
    return OK if aggregate.pending_events else NOOP


# -- service contract: the scenes ---------------------------------------------------------------

@dataclass
class Scene:
    contract: ServiceContract
    item_id: uuid.UUID
    product: SoldProduct
    today: dt.date

    @property
    def suspended(self) -> set[uuid.UUID]:
        return {self.product.product_id} if self.product.suspended else set()

    @property
    def item(self) -> ContractLine | Entitlement:
        return self.contract.lines.get(self.item_id) or self.contract.entitlements[self.item_id]


def line(start=START, end=END, product_id=None) -> ContractLine:
    return ContractLine(line_id=uuid.uuid4(), product="Premium support", quantity=2, unit_price=Decimal("100"),
                        start_date=start, end_date=end, sold_product_id=product_id)


def entitlement(start=START, end=END, line_id=None, product_id=None) -> Entitlement:
    return Entitlement(entitlement_id=uuid.uuid4(), name="onsite-repair", start_date=start, end_date=end,
                       line_id=line_id, sold_product_id=product_id, sla="4h response")


def sold() -> SoldProduct:
    return SoldProduct.record_new(uuid.uuid4(), account="ACME", product="CNC mill", quantity=1)


def contract_with(lines=(), entitlements=()) -> ServiceContract:
    return ServiceContract.draft(uuid.uuid4(), number="SC-1", account="ACME", start_date=START, end_date=END,
                                 time_zone="Europe/Berlin", lines=lines, entitlements=entitlements)


# How the target item came to be in its state. Its dates run START..OCT31, so NOV30 extends them.
HOW = {
    "draft": DRAFT,
    "suspended while draft": SUSPENDED,
    "active": ACTIVE,
    "suspended while active": SUSPENDED,
    "expired by its end date": EXPIRED,
    "expired with its contract": EXPIRED,
    "canceled while draft": CANCELED,
    "canceled while active": CANCELED,
    "canceled with its contract": CANCELED,
}
KINDS = ["line", "entitlement on the contract", "entitlement on a line"]


def scene(kind: str, how: str) -> Scene:
    """A contract whose target item covers product P (the product itself, not through a line)."""
    p = sold()
    end = D(2027, 3, 31) if how == "expired by its end date" else OCT31
    if kind == "line":
        target = line(end=end, product_id=p.product_id)
        c = contract_with([target])
    elif kind == "entitlement on the contract":
        target = entitlement(end=end, product_id=p.product_id)
        c = contract_with([], [target])
    else:
        holder = line()
        target = entitlement(end=end, line_id=holder.line_id, product_id=p.product_id)
        c = contract_with([holder], [target])
    s = Scene(c, target.item_id, p, BEFORE)
    if "draft" not in how:
        c.reach(START)
        s.today = DURING
    if how.startswith("suspended"):
        install_base.suspend(p, [c], s.today)
    elif how == "expired by its end date":
        c.reach(D(2027, 4, 1))
    elif how == "expired with its contract":
        c.reach(AFTER)
        s.today = AFTER
    elif how == "canceled with its contract":
        c.cancel(s.today)
    elif how.startswith("canceled"):
        (c.cancel_line if kind == "line" else c.cancel_entitlement)(target.item_id, s.today)
    assert s.item.state == HOW[how], (kind, how, s.item)
    p.mark_persisted()
    return s


# -- service contract: commands on a line or an entitlement ---------------------------------------

COLUMNS = (DRAFT, ACTIVE, SUSPENDED, EXPIRED, CANCELED)


@dataclass(frozen=True)
class Row:
    command: str  # the method's name
    category: str
    call: Callable[[Scene], object]
    outcomes: tuple[str, ...]  # one per state in COLUMNS

    def expected(self, state: ServiceState) -> str:
        return self.outcomes[COLUMNS.index(state)]


def _follows_product(s: Scene, name: str) -> object:
    return getattr(s.contract, name)(s.product.product_id, s.today)


FOLLOWING = [
    #                                                                              draft  active suspended expired canceled
    Row("suspend_covering", FOLLOWS_PRODUCT, lambda s: _follows_product(s, "suspend_covering"), (OK, OK, NOOP, NOOP, NOOP)),
    Row("resume_covering", FOLLOWS_PRODUCT, lambda s: _follows_product(s, "resume_covering"), (NOOP, NOOP, OK, NOOP, NOOP)),
]

LINE_ROWS = [
    Row("remove_line", STATE_CHANGE, lambda s: s.contract.remove_line(s.item_id), (OK, REMOVE_DRAFT, SUSP, TERM, TERM)),
    Row("change_line_dates", STATE_CHANGE, lambda s: s.contract.change_line_dates(s.item_id, START, NOV30),
        (OK, OK, SUSP, TERM, TERM)),
    Row("change_line_coverage", STATE_CHANGE, lambda s: s.contract.change_line_coverage(s.item_id, None, None, s.today),
        (OK, OK, SUSP, TERM, TERM)),
    Row("disconnect_line", STATE_CHANGE, lambda s: s.contract.disconnect_line(s.item_id, D(2027, 9, 30), s.today),
        (DISCONNECT_ACTIVE, OK, SUSP, TERM, TERM)),
    Row("cancel_line", STATE_CHANGE, lambda s: s.contract.cancel_line(s.item_id, s.today), (OK, OK, SUSP, TERM, TERM)),
    Row("change_line_quantity", FIELD_EDIT, lambda s: s.contract.change_line_quantity(s.item_id, 3), (OK, OK, OK, TERM, TERM)),
    Row("edit_line", FIELD_EDIT, lambda s: s.contract.edit_line(s.item_id, unit_price=Decimal("80")), (OK, OK, OK, TERM, TERM)),
    Row("add_entitlement", CREATION,
        lambda s: s.contract.add_entitlement(entitlement(DURING, D(2027, 9, 30), line_id=s.item_id), s.today, s.suspended),
        (OK, OK, OK, TERM, TERM)),
    *FOLLOWING,
]

ENTITLEMENT_ROWS = [
    Row("remove_entitlement", STATE_CHANGE, lambda s: s.contract.remove_entitlement(s.item_id), (OK, REMOVE_DRAFT, SUSP, TERM, TERM)),
    Row("change_entitlement_dates", STATE_CHANGE, lambda s: s.contract.change_entitlement_dates(s.item_id, START, NOV30),
        (OK, OK, SUSP, TERM, TERM)),
    Row("cancel_entitlement", STATE_CHANGE, lambda s: s.contract.cancel_entitlement(s.item_id, s.today),
        (OK, OK, SUSP, TERM, TERM)),
    Row("edit_entitlement", FIELD_EDIT, lambda s: s.contract.edit_entitlement(s.item_id, sla="2h response"),
        (OK, OK, OK, TERM, TERM)),
    *FOLLOWING,
]


ITEM_CASES = [
    pytest.param(kind, how, row, id=f"{row.command}-{kind}-{how}".replace(" ", "_"))
    for kind in KINDS for row in (LINE_ROWS if kind == "line" else ENTITLEMENT_ROWS) for how in HOW
]


@pytest.mark.parametrize("kind,how,row", ITEM_CASES)
def test_item_command_in_each_state(kind, how, row):
    s = scene(kind, how)
    assert outcome_of(s.contract, lambda: row.call(s)) == row.expected(HOW[how])


# -- service contract: commands on the contract --------------------------------------------------
# The contract is never Suspended; "with a suspended line" shows its commands stay allowed then.

CONTRACT_HOW = {
    "draft": DRAFT,
    "draft with a suspended line": DRAFT,
    "active": ACTIVE,
    "active with a suspended line": ACTIVE,
    "expired": EXPIRED,
    "canceled": CANCELED,
}
CONTRACT_COLUMNS = (DRAFT, ACTIVE, EXPIRED, CANCELED)


def contract_scene(how: str) -> Scene:
    s = scene("line", {"draft with a suspended line": "suspended while draft", "active with a suspended line": "suspended while active",
                       "expired": "expired with its contract", "canceled": "canceled with its contract"}.get(how, how))
    assert s.contract.state == CONTRACT_HOW[how]
    return s


CONTRACT_ROWS = [
    #                                                                                                 draft active expired canceled
    Row("change_dates", STATE_CHANGE, lambda s: s.contract.change_dates(START, D(2028, 6, 30)), (OK, OK, TERM, TERM)),
    Row("cancel", STATE_CHANGE, lambda s: s.contract.cancel(s.today, "customer left"), (OK, OK, TERM, TERM)),
    Row("add_line", CREATION, lambda s: s.contract.add_line(line(DURING, NOV30), s.today), (OK, OK, TERM, TERM)),
    Row("add_entitlement", CREATION, lambda s: s.contract.add_entitlement(entitlement(DURING, NOV30), s.today),
        (OK, OK, TERM, TERM)),
    Row("reach", TIME, lambda s: s.contract.reach(D(2028, 2, 1)), (OK, OK, NOOP, NOOP)),
    # The legal contract renewed tacitly: it follows, as time does; a terminal contract stays terminal.
    Row("renew", TIME, lambda s: s.contract.renew(END, D(2028, 12, 31)), (OK, OK, NOOP, NOOP)),
]


@pytest.mark.parametrize("how", CONTRACT_HOW)
@pytest.mark.parametrize("row", CONTRACT_ROWS, ids=lambda r: r.command)
def test_contract_command_in_each_state(row, how):
    s = contract_scene(how)
    state = CONTRACT_HOW[how]
    assert outcome_of(s.contract, lambda: row.call(s)) == row.outcomes[CONTRACT_COLUMNS.index(state)]


def test_canceling_a_contract_cancels_its_suspended_line_with_it():
    s = contract_scene("active with a suspended line")
    s.contract.cancel(s.today)
    assert s.item.state == CANCELED


# -- service contract: a line's command reaching an entitlement on it ----------------------------
# A Suspended child may end with its parent (expiry, cancellation) but is not changed through it.

@dataclass(frozen=True)
class Cascade:
    command: str
    line_state: str  # how the line is: "draft" or "active"
    call: Callable[[ServiceContract, uuid.UUID, dt.date], object]
    outcomes: dict[str, tuple[str, ServiceState]]  # how the entitlement is -> (outcome, its state after)


def line_with_entitlement(line_how: str, ent_how: str) -> tuple[ServiceContract, uuid.UUID, uuid.UUID, dt.date]:
    s = scene("entitlement on a line", ent_how)
    holder = next(iter(s.contract.lines))
    assert s.contract.lines[holder].state == HOW[line_how]
    return s.contract, holder, s.item_id, s.today


CASCADES = [
    Cascade("remove_line", "draft", lambda c, ln, today: c.remove_line(ln), {
        "draft": (OK, None), "suspended while draft": (SUSP, SUSPENDED), "canceled while draft": (TERM, CANCELED)}),
    Cascade("disconnect_line", "active", lambda c, ln, today: c.disconnect_line(ln, D(2027, 9, 30), today), {
        "active": (OK, ACTIVE), "suspended while active": (SUSP, SUSPENDED),
        "expired by its end date": (OK, EXPIRED), "canceled while active": (OK, CANCELED)}),
    Cascade("cancel_line", "active", lambda c, ln, today: c.cancel_line(ln, today), {
        "active": (OK, CANCELED), "suspended while active": (OK, CANCELED),
        "expired by its end date": (OK, EXPIRED), "canceled while active": (OK, CANCELED)}),
    Cascade("change_line_dates", "active", lambda c, ln, today: c.change_line_dates(ln, START, END), {
        "active": (NOOP, ACTIVE), "suspended while active": (NOOP, SUSPENDED)}),  # the line already ends at END
]


@pytest.mark.parametrize("cascade,ent_how", [(c, how) for c in CASCADES for how in c.outcomes],
                         ids=lambda v: v.command if isinstance(v, Cascade) else v.replace(" ", "_"))
def test_line_command_reaching_an_entitlement_on_it(cascade, ent_how):
    c, line_id, ent_id, today = line_with_entitlement(cascade.line_state, ent_how)
    outcome, state_after = cascade.outcomes[ent_how]
    assert outcome_of(c, lambda: cascade.call(c, line_id, today)) == outcome
    assert (c.entitlements[ent_id].state if ent_id in c.entitlements else None) == state_after


# -- the other aggregates ---------------------------------------------------------------------------

def persisted(aggregate: Aggregate) -> Aggregate:
    aggregate.mark_persisted()
    return aggregate


def _suspended(product):
    product.suspend(DURING)
    return persisted(product)


def _clm_contract() -> Contract:
    return Contract.draft(uuid.uuid4(), number="CNT-1", title="Robot fleet service", contract_model="service_contract",
                          parties=[Party(role="customer", name="ACME")], start_date=START, end_date=END)


def _activated(contract: Contract) -> Contract:
    contract.activate()
    return persisted(contract)


def _scheduled() -> ContractSchedule:
    schedule = ContractSchedule.for_contract(uuid.uuid4())
    schedule.schedule_expiry(END, "UTC")
    return persisted(schedule)


def _expired(schedule: ContractSchedule) -> ContractSchedule:
    schedule.expire_if_due(dt.datetime(2028, 1, 2, tzinfo=dt.UTC))
    return persisted(schedule)


def _with_asset(coverage: OperationalContract) -> OperationalContract:
    coverage.link_asset("robot-7", "Robot 7")
    return persisted(coverage)


def _expired_coverage(coverage: OperationalContract) -> OperationalContract:
    coverage.record(OperationalContractExpired(contract_id=uuid.UUID(coverage.id), end_date=coverage.end_date))
    return persisted(coverage)


def _new_sold() -> SoldProduct:
    return persisted(sold())


def _new_item() -> InstallBaseItem:
    return persisted(InstallBaseItem.record_new(uuid.uuid4(), account="ACME", name="mill #1", site="Plant 4"))


def _coverage() -> OperationalContract:
    activated = _Activated(contract_id=uuid.uuid4(), number="C-1", title="MSA", contract_model="msa",
                           parties=[_Party(role="customer", name="ACME")], start_date=START, end_date=END, time_zone="UTC")
    return persisted(OperationalContract.open_from_contracting(activated))


VENDOR = VendorContractTerms(number="VC-1", vendor="KUKA Service", vendor_contract_number="KS-1", name="Robot care",
                             contract_model="maintenance", start_date=START, end_date=END, time_zone="Europe/Berlin")
ROBOT = AssetDetails(kind="robot", name="Robot 7", site="Plant 4", criticality="critical")
TERM_OPS, LEGAL = ops_rules.STATE_TERMINAL, ops_rules.LEGAL_TERMS_OWNED_BY_CONTRACTING
NO_LINK = "link.not_found"
OPERATIONAL_STATE_NAMES = ("draft", "active", "expired", "canceled", "from contracting",
                           "from contracting, with the asset linked")


def _vendor(*steps: Callable[[OperationalContract], object]) -> OperationalContract:
    contract = OperationalContract.register_vendor_contract(VENDOR, OperationalTerms())
    for step in steps:
        step(contract)
    return persisted(contract)


OPERATIONAL_STATES = dict(zip(OPERATIONAL_STATE_NAMES, (
    _vendor, lambda: _vendor(lambda c: c.activate(START)),
    lambda: _vendor(lambda c: c.activate(START), lambda c: c.expire(END)),
    lambda: _vendor(lambda c: c.cancel(DURING)),
    _coverage, lambda: _with_asset(_coverage()),
)))


def _by_state(*outcomes: str) -> dict[str, str]:
    return dict(zip(OPERATIONAL_STATE_NAMES, outcomes, strict=True))


def _asset() -> Asset:
    return persisted(Asset.register("ROB-7", ROBOT))


def _covered(asset: Asset) -> Asset:
    asset.restore(START, [uuid.uuid4()])
    return persisted(asset)


def _dates() -> OperationalContractDates:
    return persisted(OperationalContractDates.for_contract(uuid.uuid4()))


def _start_reached(dates: OperationalContractDates) -> OperationalContractDates:
    dates.reach("start", START, "UTC")
    return persisted(dates)


PERIOD = ContractPeriod(number=1, start_date=START, end_date=END, notice_deadline=END - dt.timedelta(days=90),
                        cancel_by=END - dt.timedelta(days=120))
REMINDED_AT = dt.datetime(2027, 8, 1, tzinfo=dt.UTC)


def _periods() -> ContractPeriods:
    return persisted(ContractPeriods.for_contract(uuid.uuid4()))


def _period_ended(periods: ContractPeriods) -> ContractPeriods:
    periods.end_period(PERIOD, "UTC")
    periods.remind(1, "cancel_by", PERIOD.cancel_by, 30, ["a@example.com"], REMINDED_AT)
    return persisted(periods)


def _timetable() -> ServiceContractTimetable:
    return ServiceContractTimetable.for_contract(uuid.uuid4())


def _reach_start(t: ServiceContractTimetable) -> None:
    t.reach([activation("contract", t.contract_id, START, "UTC")], "UTC", dt.datetime(2027, 1, 1, tzinfo=dt.UTC))


AT = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
REQUEST_STATES = ("request draft", "request new", "work in progress", "awaiting review", "cancelled")


def _requested() -> Contract:
    terms = RequestTerms(title="Robot fleet service", account=RequestedAccount(name="ACME"), currency="EUR")
    return Contract.request(uuid.uuid4(), terms, by="ann", at=AT)


def _then(contract: Contract, *steps: Callable[[Contract], object]) -> Contract:
    for step in steps:
        step(contract)
    return persisted(contract)


def _submit(c):
    c.submit(by="ann", at=AT)


def _work(c):
    c.start_work(by="lena", roles=frozenset({"legal_counsel"}), at=AT)


_DOCUMENT = DocumentRef(document_id=uuid.uuid4(), sha256="0" * 64, size=1, media_type="application/octet-stream",
                        filename="v.docx")


def _draft_from_template(c):
    c.draft_from_template(template=TemplateUsed(template_id=uuid.uuid4(), template_version=1, kind="msa"), vendor="Initech",
                          start_date=D(2027, 1, 1), variables={}, clauses=[], terms=NegotiatedTerms(),
                          document=_DOCUMENT, by="lena", at=AT)


_MATRIX = standard_matrix(AT)
_STEP, _NO_STEP = uuid.uuid4(), "approval_step.not_found"


def _add_version(c):
    c.add_version(origin="counterparty_upload", author="ann", at=AT, document=_DOCUMENT, clauses=[], terms=NegotiatedTerms())


_ENVELOPE, _SIGNER = uuid.uuid4(), uuid.uuid4()
_NO_ENVELOPE = "envelope.not_found"


def _request_signature(c):
    c.request_signature(envelope_id=_ENVELOPE, signers=[Signer(signer_id=_SIGNER, name="Ann", email="ann@example.com",
                                                               role="customer", routing_order=1)],
                        deadline=AT + dt.timedelta(days=7), provider="builtin", document=_DOCUMENT, by="cm", at=AT)


CONTRACT_STATES = {
    "draft": lambda: persisted(_clm_contract()), "active": lambda: _activated(_clm_contract()),
    "request draft": lambda: _then(_requested()),
    "request new": lambda: _then(_requested(), _submit),
    "work in progress": lambda: _then(_requested(), _submit, _work),
    "awaiting review": lambda: _then(_requested(), _submit, _work, lambda c: c.ready_for_review(by="lena", at=AT)),
    "cancelled": lambda: _then(_requested(), lambda c: c.cancel(reason="duplicate", by="ann", at=AT)),
}


def _each_request(outcome: str) -> dict[str, str]:
    return dict.fromkeys(REQUEST_STATES, outcome)


def _drafted(outcome: str) -> dict[str, str]:
    return {"draft": outcome, "active": outcome}


@dataclass(frozen=True)
class Grid:
    cls: type
    states: dict[str, Callable[[], Aggregate]]
    commands: dict[str, tuple[str, Callable[[Aggregate], object], dict[str, str]]]  # name -> (category, call, outcome by state)
    others: dict[str, str]  # the methods that are not commands on an existing aggregate -> category



# -- obligations (phase 7) ---------------------------------------------------------------------------

_MONTH_END = D(2027, 1, 31)


def _obligation() -> Obligation:
    return persisted(Obligation.record_new(
        uuid.uuid4(), contract_id=uuid.uuid4(), kind="report", description="Monthly SLA report", owners=["ann"],
        due_date=None, recurrence=Recurrence(rrule="FREQ=MONTHLY;BYMONTHDAY=-1", start=START), time_zone="UTC",
        source_clause=None, origin="manual", by="cm", at=AT))


def _completed_obligation() -> Obligation:
    o = _obligation()
    o.complete(_MONTH_END, note="sent", evidence=None, by="ann", at=AT)
    return persisted(o)


def _canceled_obligation() -> Obligation:
    o = _obligation()
    o.cancel(reason=None, by="cm", at=AT)
    return persisted(o)


def _obligation_dates(due: bool = False, overdue: int = 0) -> ObligationDates:
    d = ObligationDates.for_obligation(uuid.uuid4())
    if due:
        d.announce_due(uuid.uuid4(), _MONTH_END, kind="report", description="x", owners=["ann"], reached_at=AT)
    if overdue:
        d.announce_overdue(uuid.uuid4(), _MONTH_END, overdue, owners=["ann"], escalate_after=2, reached_at=AT)
    return persisted(d)


GRIDS = [
    Grid(SoldProduct, {"active": _new_sold, "suspended": lambda: _suspended(_new_sold())}, {
        "suspend": (STATE_CHANGE, lambda p: p.suspend(DURING), {"active": OK, "suspended": rules.PRODUCT_ALREADY_SUSPENDED}),
        "resume": (STATE_CHANGE, lambda p: p.resume(DURING), {"active": rules.PRODUCT_NOT_SUSPENDED, "suspended": OK}),
    }, {"record_new": NEW}),
    Grid(InstallBaseItem, {"active": _new_item, "suspended": lambda: _suspended(_new_item())}, {
        "suspend": (STATE_CHANGE, lambda p: p.suspend(DURING), {"active": OK, "suspended": rules.PRODUCT_ALREADY_SUSPENDED}),
        "resume": (STATE_CHANGE, lambda p: p.resume(DURING), {"active": rules.PRODUCT_NOT_SUSPENDED, "suspended": OK}),
        "move": (FIELD_EDIT, lambda p: p.move("Plant 7"), {"active": OK, "suspended": OK}),  # MACD move: a field change
    }, {"record_new": NEW}),
    Grid(Contract, CONTRACT_STATES, {
        "activate": (STATE_CHANGE, lambda c: c.activate(), {
            "draft": OK, "active": "contract.activate_only_from_draft", **_each_request("contract.activate_only_from_draft")}),
        "submit": (STATE_CHANGE, lambda c: c.submit(by="ann", at=AT), {
            **_drafted(clm_rules.REQUEST_NOT_A_REQUEST), **_each_request(clm_rules.REQUEST_SUBMIT_ONLY_FROM_DRAFT),
            "request draft": OK}),
        "start_work": (STATE_CHANGE, lambda c: c.start_work(by="lena", roles=frozenset({"legal_counsel"}), at=AT), {
            **_drafted(clm_rules.REQUEST_NOT_A_REQUEST), **_each_request(clm_rules.REQUEST_WORK_ONLY_FROM_NEW_OR_REVIEW),
            "request new": OK, "awaiting review": OK}),
        "ready_for_review": (STATE_CHANGE, lambda c: c.ready_for_review(by="lena", at=AT), {
            **_drafted(clm_rules.REQUEST_NOT_A_REQUEST), **_each_request(clm_rules.REQUEST_REVIEW_ONLY_FROM_WORK_IN_PROGRESS),
            "work in progress": OK}),
        "cancel": (STATE_CHANGE, lambda c: c.cancel(reason="withdrawn", by="ann", at=AT), {
            **_drafted(clm_rules.REQUEST_NOT_A_REQUEST), **_each_request(OK), "cancelled": clm_rules.REQUEST_STATE_TERMINAL}),
        "enrich": (FIELD_EDIT, lambda c: c.enrich(by="ann", at=AT, desired_start_date=D(2027, 2, 1)), {
            **_drafted(clm_rules.REQUEST_NOT_A_REQUEST), **_each_request(OK),
            "awaiting review": clm_rules.REQUEST_ENRICH_ONLY_BEFORE_REVIEW, "cancelled": clm_rules.REQUEST_ENRICH_ONLY_BEFORE_REVIEW}),
        "classify_as": (FIELD_EDIT, lambda c: c.classify_as("high_risk", reason="", by="cm", at=AT), {
            **_drafted(clm_rules.REQUEST_NOT_A_REQUEST), **_each_request(OK), "cancelled": clm_rules.REQUEST_STATE_TERMINAL}),
        "assign": (FIELD_EDIT, lambda c: c.assign(by="cm", at=AT, assignee="lena", assignee_role="legal_counsel"), {
            **_drafted(clm_rules.REQUEST_NOT_A_REQUEST), **_each_request(OK), "cancelled": clm_rules.REQUEST_STATE_TERMINAL,
            "work in progress": NOOP, "awaiting review": NOOP}),  # lena took it when she started work
        # Drafting from a template and negotiation: the states with versions are covered in
        # tests/unit/test_drafting_and_negotiation.py; here every state of the grid has none.
        "draft_from_template": (STATE_CHANGE, _draft_from_template, {
            **_drafted(clm_rules.REQUEST_NOT_A_REQUEST), **_each_request(clm_rules.DRAFTING_ONLY_FROM_NEW_OR_WORK),
            "request new": clm_rules.DRAFTING_TERM_MISSING, "work in progress": clm_rules.DRAFTING_TERM_MISSING}),
        "add_version": (FIELD_EDIT, _add_version, {
            **_drafted(clm_rules.NEGOTIATION_NOT_DRAFTED), **_each_request(clm_rules.NEGOTIATION_NOT_DRAFTED)}),
        "record_terms": (FIELD_EDIT, lambda c: c.record_terms(NegotiatedTerms(payment_days=45), by="ann", at=AT), {
            **_drafted(clm_rules.NEGOTIATION_NOT_DRAFTED), **_each_request(clm_rules.NEGOTIATION_NOT_DRAFTED)}),
        # Approvals: the states with versions and open steps are covered in tests/unit/test_approvals.py.
        "submit_for_approval": (STATE_CHANGE, lambda c: c.submit_for_approval(_MATRIX, by="cm", at=AT), {
            **_drafted(clm_rules.REQUEST_NOT_A_REQUEST), **_each_request(clm_rules.APPROVAL_NOT_DRAFTED)}),
        "approve": (STATE_CHANGE, lambda c: c.approve(_STEP, by="lena", roles=frozenset({"legal_counsel"}), comment="",
                                                      at=AT), {**_drafted(_NO_STEP), **_each_request(_NO_STEP)}),
        "reject": (STATE_CHANGE, lambda c: c.reject(_STEP, by="lena", roles=frozenset({"legal_counsel"}), comment="no",
                                                    at=AT), {**_drafted(_NO_STEP), **_each_request(_NO_STEP)}),
        "step_at_risk": (TIME, lambda c: c.step_at_risk(_STEP, level=0, at=AT), {**_drafted(NOOP), **_each_request(NOOP)}),
        "step_deadline_reached": (TIME, lambda c: c.step_deadline_reached(_STEP, level=0, at=AT), {
            **_drafted(NOOP), **_each_request(NOOP)}),
        # Signature (phase 5): no state of this grid awaits signature with an approved version;
        # those states are covered in tests/unit/test_signature.py.
        "request_signature": (STATE_CHANGE, _request_signature, {
            **_drafted(clm_rules.REQUEST_NOT_A_REQUEST), **_each_request(clm_rules.SIGNATURE_VERSION_NOT_APPROVED)}),
        "view": (FIELD_EDIT, lambda c: c.view(_ENVELOPE, _SIGNER, at=AT), {
            **_drafted(_NO_ENVELOPE), **_each_request(_NO_ENVELOPE)}),
        "sign": (STATE_CHANGE, lambda c: c.sign(_ENVELOPE, _SIGNER, at=AT, typed_name="Ann"), {
            **_drafted(_NO_ENVELOPE), **_each_request(_NO_ENVELOPE)}),
        "decline": (STATE_CHANGE, lambda c: c.decline(_ENVELOPE, _SIGNER, reason="no", at=AT), {
            **_drafted(_NO_ENVELOPE), **_each_request(_NO_ENVELOPE)}),
        "remind": (TIME, lambda c: c.remind(_ENVELOPE, _SIGNER, at=AT), {**_drafted(NOOP), **_each_request(NOOP)}),
        "expire": (TIME, lambda c: c.expire(_ENVELOPE, at=AT), {**_drafted(NOOP), **_each_request(NOOP)}),
        "cancel_signature": (STATE_CHANGE, lambda c: c.cancel_signature(reason="void", by="cm", at=AT), {
            **_drafted(clm_rules.SIGNATURE_NO_OPEN_ENVELOPE), **_each_request(clm_rules.SIGNATURE_NO_OPEN_ENVELOPE)}),
        "execute": (STATE_CHANGE, lambda c: c.execute(signed_document=_DOCUMENT, audit_certificate=_DOCUMENT, at=AT), {
            **_drafted(clm_rules.SIGNATURE_NOT_COMPLETE), **_each_request(clm_rules.SIGNATURE_NOT_COMPLETE)}),
        # The start date of an executed contract (none of these states is executed: tests/unit/test_activation.py).
        "start_reached": (TIME, lambda c: c.start_reached({}, at=AT, by="clm.activation"), {
            **_drafted(NOOP), **_each_request(NOOP)}),
        # Renewal terms (phase 7): the states with terms are covered in tests/unit/test_renewal_terms.py
        # (this grid's active contract was activated without an instant, so it has none).
        "set_renewal_terms": (FIELD_EDIT, lambda c: c.set_renewal_terms(
            {"renewal": "tacit", "notice_period": "P90D", "owners": ["ann"]}, by="cm", at=AT), {
            "draft": OK, "active": clm_rules.RENEWAL_LOCKED_AFTER_ACTIVATION,
            **_each_request(clm_rules.RENEWAL_DATES_UNKNOWN), "cancelled": clm_rules.REQUEST_STATE_TERMINAL}),
        "period_ended": (TIME, lambda c: c.period_ended(1, at=AT), {**_drafted(NOOP), **_each_request(NOOP)}),
        "give_termination_notice": (STATE_CHANGE, lambda c: c.give_termination_notice(
            given_on=START, reason=None, by="cm", at=AT), {
            **_each_request(clm_rules.TERMINATION_NOT_ACTIVE), "draft": clm_rules.TERMINATION_NOT_ACTIVE,
            "active": clm_rules.RENEWAL_TERMS_MISSING}),
        "acknowledge_reminder": (FIELD_EDIT, lambda c: c.acknowledge_reminder(
            period_number=1, anchor="cancel_by", note=None, by="ann", at=AT), {
            **_drafted(clm_rules.RENEWAL_TERMS_MISSING), **_each_request(clm_rules.RENEWAL_TERMS_MISSING)}),
    }, {"renewal_dates": QUERY, "is_renewal_owner": QUERY, "missing_for_activation": QUERY, "approval_fields": QUERY, "draft": NEW, "request": NEW, "request_from_quote": NEW, "same_request": QUERY, "check_draftable": QUERY,
        "check_can_add_version": QUERY, "drafting_dates": QUERY, "parties": QUERY, "deal_fields": QUERY,
        "request_variables": QUERY, "version_numbered": QUERY, "check_can_request_signature": QUERY,
        "open_signer": QUERY, "signer_of_provider": QUERY,
        # Open a linked request from an executed or active one: each state in tests/unit/test_contract_links.py.
        "amendment_of": CREATION, "successor_of": CREATION, "same_link": QUERY}),
    Grid(OperationalContract, OPERATIONAL_STATES, {
        "link_asset": (CREATION, lambda c: c.link_asset("robot-7", "Robot 7"),
                       _by_state(OK, OK, TERM_OPS, TERM_OPS, OK, NOOP)),
        "revise_terms": (FIELD_EDIT, lambda c: c.revise_terms(VENDOR.model_copy(update={"end_date": D(2028, 6, 30)})),
                         _by_state(OK, OK, TERM_OPS, TERM_OPS, LEGAL, LEGAL)),
        "set_operational_terms": (FIELD_EDIT, lambda c: c.set_operational_terms(OperationalTerms(owners=["ot-maria"])),
                                  _by_state(OK, OK, TERM_OPS, TERM_OPS, OK, OK)),
        "link_assets": (CREATION, lambda c: c.link_assets([LinkRequest("cnc-2", "CNC 2")]),
                        _by_state(OK, OK, TERM_OPS, TERM_OPS, OK, OK)),
        "revise_link": (FIELD_EDIT, lambda c: c.revise_link("robot-7", START, None),
                        _by_state(NO_LINK, NO_LINK, TERM_OPS, TERM_OPS, NO_LINK, OK)),
        "unlink": (FIELD_EDIT, lambda c: c.unlink("robot-7"),
                   _by_state(NO_LINK, NO_LINK, TERM_OPS, TERM_OPS, NO_LINK, OK)),
        "carry_links_from": (CREATION, lambda c: c.carry_links_from(_with_asset(_coverage())),
                             _by_state(OK, OK, TERM_OPS, TERM_OPS, OK, NOOP)),
        "activate": (TIME, lambda c: c.activate(START), _by_state(OK, NOOP, NOOP, NOOP, NOOP, NOOP)),
        "expire": (TIME, lambda c: c.expire(), _by_state(OK, OK, NOOP, NOOP, OK, OK)),
        "cancel": (STATE_CHANGE, lambda c: c.cancel(D(2027, 7, 1), "plant closed"),
                   _by_state(OK, OK, TERM_OPS, TERM_OPS, LEGAL, LEGAL)),
        # clm's ContractRenewed: only a contract from contracting that is open follows it.
        "follow_renewal": (TIME, lambda c: c.follow_renewal(D(2040, 12, 31)), _by_state(NOOP, NOOP, NOOP, NOOP, OK, OK)),
    }, {"open_from_contracting": NEW, "register_vendor_contract": NEW, "require_open": QUERY,
        "require_own_terms": QUERY}),
    Grid(Asset, {"uncovered": _asset, "covered": lambda: _covered(_asset())}, {
        "revise": (FIELD_EDIT, lambda a: a.revise(ROBOT.model_copy(update={"site": "Plant 5"})),
                   {"uncovered": OK, "covered": OK}),
        "lapse": (STATE_CHANGE, lambda a: a.lapse(AFTER, None, "contract_expired"), {"uncovered": NOOP, "covered": OK}),
        "restore": (STATE_CHANGE, lambda a: a.restore(DURING, [uuid.uuid4()]), {"uncovered": OK, "covered": NOOP}),
    }, {"register": NEW}),
    Grid(OperationalContractDates, {"new": _dates, "start reached": lambda: _start_reached(_dates())}, {
        "reach": (TIME, lambda d: d.reach("start", START, "UTC"), {"new": OK, "start reached": NOOP}),
    }, {"for_contract": NEW}),
    Grid(ContractSchedule, {
        "unscheduled": lambda: ContractSchedule.for_contract(uuid.uuid4()), "scheduled": _scheduled,
        "expired": lambda: _expired(_scheduled()),
    }, {
        "schedule_expiry": (STATE_CHANGE, lambda s: s.schedule_expiry(D(2028, 6, 30), "UTC"),
                            {"unscheduled": OK, "scheduled": OK, "expired": NOOP}),
        "expire_if_due": (TIME, lambda s: s.expire_if_due(dt.datetime(2030, 1, 1, tzinfo=dt.UTC)),
                          {"unscheduled": NOOP, "scheduled": OK, "expired": NOOP}),
    }, {"for_contract": NEW}),
    Grid(Obligation, {"recorded": _obligation, "completed": _completed_obligation, "canceled": _canceled_obligation}, {
        "complete": (STATE_CHANGE, lambda o: o.complete(_MONTH_END, note="sent", evidence=None, by="ann", at=AT),
                     {"recorded": OK, "completed": NOOP, "canceled": clm_rules.OBLIGATION_CANCELED}),
        "cancel": (STATE_CHANGE, lambda o: o.cancel(reason=None, by="cm", at=AT),
                   {"recorded": OK, "completed": OK, "canceled": NOOP}),
    }, {"record_new": NEW, "is_occurrence": QUERY, "occurrences": QUERY, "around": QUERY, "state_of": QUERY,
        "may_complete": QUERY}),
    Grid(ObligationDates, {"new": _obligation_dates, "due": lambda: _obligation_dates(due=True),
                           "overdue 2": lambda: _obligation_dates(due=True, overdue=2)}, {
        "announce_due": (TIME, lambda d: d.announce_due(uuid.uuid4(), _MONTH_END, kind="report", description="x",
                                                        owners=["ann"], reached_at=AT),
                         {"new": OK, "due": NOOP, "overdue 2": NOOP}),
        "announce_overdue": (TIME, lambda d: d.announce_overdue(uuid.uuid4(), _MONTH_END, 2, owners=["ann"],
                                                                escalate_after=2, reached_at=AT),
                             {"new": OK, "due": OK, "overdue 2": NOOP}),
    }, {"for_obligation": NEW, "stream_id": QUERY}),
    Grid(ContractPeriods, {"new": _periods, "period ended": lambda: _period_ended(_periods())}, {
        "end_period": (TIME, lambda p: p.end_period(PERIOD, "UTC"), {"new": OK, "period ended": NOOP}),
        "remind": (TIME, lambda p: p.remind(1, "cancel_by", PERIOD.cancel_by, 30, ["a@example.com"], REMINDED_AT),
                   {"new": OK, "period ended": NOOP}),
    }, {"for_contract": NEW, "stream_id": QUERY}),
    Grid(ServiceContractTimetable, {"new": _timetable}, {
        "reach": (TIME, _reach_start, {"new": OK}),
    }, {"for_contract": NEW, "at_version": NEW, "stream_id": QUERY}),
]


@pytest.mark.parametrize("grid,command,state", [
    pytest.param(g, name, state, id=f"{g.cls.__name__}.{name}-{state}".replace(" ", "_"))
    for g in GRIDS for name in g.commands for state in g.states
])
def test_other_aggregates_command_in_each_state(grid, command, state):
    aggregate = grid.states[state]()
    _, call, outcomes = grid.commands[command]
    assert outcome_of(aggregate, lambda: call(aggregate)) == outcomes[state]


# -- nothing slips past the tables ---------------------------------------------------------------------

SERVICE_CONTRACT_OTHERS = {
    "draft": NEW, "record_from": NEW,
    "items": QUERY, "line": QUERY, "entitlement": QUERY, "covered_by": QUERY, "covered_products": QUERY,
    "state_by_dates": QUERY,
}


def service_contract_classification() -> dict[str, str]:
    classified = dict(SERVICE_CONTRACT_OTHERS)
    for row in LINE_ROWS + ENTITLEMENT_ROWS + CONTRACT_ROWS:
        assert classified.setdefault(row.command, row.category) == row.category, f"{row.command} classified twice"
    return classified


@pytest.mark.parametrize("cls,classified", [
    pytest.param(ServiceContract, service_contract_classification(), id="ServiceContract"),
    *[pytest.param(g.cls, {**g.others, **{name: category for name, (category, _, _) in g.commands.items()}}, id=g.cls.__name__)
      for g in GRIDS],
])
def test_every_public_method_is_classified(cls, classified):
    assert public_methods(cls) == set(classified), "classify the new method and give it a row in every state"


def test_the_service_contract_grid_follows_the_life_cycle_rules():
    for row in LINE_ROWS + ENTITLEMENT_ROWS:
        if row.category == STATE_CHANGE:
            assert row.expected(SUSPENDED) == SUSP, row.command
        if row.category in (FIELD_EDIT, CREATION):
            assert row.expected(SUSPENDED) == OK, row.command
        terminal = NOOP if row.category == FOLLOWS_PRODUCT else TERM  # terminal items stay terminal
        assert row.expected(EXPIRED) == row.expected(CANCELED) == terminal, row.command
    for row in CONTRACT_ROWS:
        assert row.outcomes[CONTRACT_COLUMNS.index(EXPIRED)] == row.outcomes[CONTRACT_COLUMNS.index(CANCELED)] \
            == (NOOP if row.category == TIME else TERM), row.command


def test_the_scenes_cover_every_state():
    assert set(HOW.values()) == set(COLUMNS) and set(CONTRACT_HOW.values()) == set(CONTRACT_COLUMNS)

