"""Phase 7 end to end (issue 14), every service its own process, driven over HTTP only.

A tacit 12-month contract with 90 days' notice and 30 days' lead time -> its cancel-by dates are
right for periods 1 and 3 -> activated -> the scheduler's clock at 90, 60, 30 and 0 days before the
cancel-by date: the reminders are mailed to both owners by the real SMTP server, repeated while
nobody acknowledges and escalated to the contract manager -> an owner acknowledges: they stop ->
at the period's end the contract renews by itself (period 2) -> clm's clock past period 2's notice
deadline: a termination notice is refused, naming the rule and the next possible end. An
obligation of the contract falls due, goes overdue and escalates, and completing it stops it.
"""

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.conftest import eventually, token
from tests.platform import running_platform

pytestmark = pytest.mark.e2e

ZONE = ZoneInfo("Europe/Berlin")
SRE = {"Authorization": f"Bearer {token('sre', subject='sre-sid')}"}
COUNSEL = {"Authorization": f"Bearer {token('legal_counsel', subject='counsel-lena')}"}
OPS = {"Authorization": f"Bearer {token('sales_ops', subject='ops-sam')}"}
MANAGER = {"Authorization": f"Bearer {token('contract_manager', subject='cm-jonas')}"}


def as_owner(address: str) -> dict:
    return {"Authorization": f"Bearer {token('sales', subject=address)}"}


def berlin(day: dt.date, minutes: int = 1) -> str:
    """A minute into `day` in the contract's zone: the day's timers are due."""
    return (dt.datetime.combine(day, dt.time(), ZONE) + dt.timedelta(minutes=minutes)).isoformat()


@pytest.fixture(scope="module")
def platform(service_env, tmp_path_factory):
    with running_platform(service_env, tmp_path_factory.mktemp("renewal-flow-logs")) as running:
        yield running.urls


async def test_a_tacit_contract_is_reminded_until_acknowledged_renews_and_refuses_a_late_notice(platform, smtp_server):
    clm, scheduler, projection = platform["clm"], platform["lifecycle_scheduler"], platform["projection"]
    run = uuid.uuid4().hex[:6]
    ann, ben, team = f"ann.{run}@acme.example", f"ben.{run}@acme.example", f"contracts.{run}@acme.example"
    async with httpx.AsyncClient(timeout=30) as http:
        async def move(service: str, instant: str) -> None:
            moved = await http.put(f"{service}/api/v1/ops/clock", headers=SRE, json={"now": instant})
            assert moved.status_code == 200, moved.text

        # The accountable role's mails go to the contract team's list.
        subscribed = await http.put(f"{scheduler}/api/v1/notification-subscriptions/role:contract_manager",
                                    headers=SRE, json={"email": team})
        assert subscribed.status_code == 200, subscribed.text

        drafted = await http.post(f"{clm}/api/v1/contracts", headers=COUNSEL, json={
            "number": f"MSA-{run}", "title": f"Robot fleet maintenance {run}", "contract_model": "service",
            "parties": [{"role": "customer", "name": "ACME Robotics"}, {"role": "vendor", "name": "Example GmbH"}],
            "start_date": "2027-01-01", "end_date": "2027-12-31", "time_zone": "Europe/Berlin"})
        assert drafted.status_code == 201, drafted.text
        contract_id = drafted.json()["contract_id"]
        terms = await http.put(f"{clm}/api/v1/contracts/{contract_id}/renewal-terms?periods=3", headers=MANAGER, json={
            "initial_term": "P12M", "renewal_term": "P12M", "renewal": "tacit", "notice_period": "P90D",
            "lead_time": "P30D", "owners": [ann, ben]})
        assert terms.status_code == 200, terms.text
        listed = await http.get(f"{clm}/api/v1/contracts/{contract_id}/renewal-terms?periods=3", headers=OPS)
        periods = listed.json()["periods"]
        assert [(p["number"], p["end_date"], p["notice_deadline"], p["cancel_by"]) for p in periods] == [
            (1, "2027-12-31", "2027-10-02", "2027-09-02"),
            (2, "2028-12-31", "2028-10-02", "2028-09-02"),
            (3, "2029-12-31", "2029-10-02", "2029-09-02"),
        ]

        activated = await http.post(f"{clm}/api/v1/contracts/{contract_id}/activation", headers=OPS, json={})
        assert activated.status_code == 200, activated.text

        async def timers_planned():
            r = await http.get(f"{scheduler}/api/v1/contracts/{contract_id}/period-timers", headers=OPS)
            return r.json() if r.status_code == 200 and r.json().get("timers") else None

        await eventually(timers_planned, timeout=60)

        series = f"contract_reminder:{contract_id}/1/cancel_by"

        async def deliveries() -> list[dict]:
            found, cursor = [], None
            while True:
                r = await http.get(f"{scheduler}/api/v1/notification-deliveries", headers=SRE,
                                   params={"series_key": series, "limit": 200, **({"cursor": cursor} if cursor else {})})
                assert r.status_code == 200, r.text
                found += r.json()["items"]
                cursor = r.json().get("next_cursor")
                if not cursor:
                    return found

        def mailed(delivery: dict) -> bool:
            return any(m["Message-ID"] == f"<{delivery['delivery_id']}@clm-platform>"
                       for m in smtp_server.mailbox.to(delivery["address"]))

        async def sent_to_both(occurrence: str):
            key = f"{series}/{occurrence}"
            rows = [d for d in await deliveries() if d["occurrence_key"] == key
                    or (occurrence == "repeat" and d["occurrence_key"].startswith(key))]
            sent = {d["address"] for d in rows if d["state"] == "sent" and mailed(d)}
            assert {ann, ben} <= sent, f"{occurrence}: {[(d['address'], d['state']) for d in rows]}"
            return rows

        # 90, 60, 30 and 0 days before the cancel-by date (2 September 2027), a week's repeat in between.
        for day, occurrence in ((dt.date(2027, 6, 4), "90"), (dt.date(2027, 6, 12), "repeat"),
                                (dt.date(2027, 7, 4), "60"), (dt.date(2027, 8, 3), "30"), (dt.date(2027, 9, 2), "0")):
            await move(scheduler, berlin(day))
            await eventually(lambda: sent_to_both(occurrence), timeout=60)

        # Unanswered for three occurrences: the contract manager's list is told too.
        escalated = [d for d in await deliveries() if d["recipient"] == "role:contract_manager"]
        assert escalated and all(d["address"] == team for d in escalated)
        assert any(d["state"] == "sent" and mailed(d) for d in escalated)

        # Ann takes it in hand: the cancel-by reminders stop (no repeat a week later).
        acknowledged = await http.post(f"{clm}/api/v1/contracts/{contract_id}/renewal-reminders/acknowledge",
                                       headers=as_owner(ann), json={"period_number": 1, "anchor": "cancel_by",
                                                                    "note": "we keep it: fleet grows in 2028"})
        assert acknowledged.status_code == 200, acknowledged.text
        stopped_with = len(await deliveries())

        async def series_stopped():
            r = await http.get(f"{scheduler}/api/v1/notification-series/{series}", headers=SRE)
            return r.json() if r.status_code == 200 and r.json().get("stopped_at") else None

        await eventually(series_stopped, timeout=60)
        await move(scheduler, berlin(dt.date(2027, 9, 10)))
        await move(scheduler, berlin(dt.date(2027, 9, 20)))
        assert len(await deliveries()) == stopped_with

        # The period ends without notice: renewed tacitly, once; period 2 with its own deadlines.
        await move(scheduler, berlin(dt.date(2028, 1, 1)))

        async def renewed():
            r = await http.get(f"{clm}/api/v1/contracts/{contract_id}/renewal-terms", headers=OPS)
            return r.json() if r.json()["current_period"]["number"] == 2 else None

        current = (await eventually(renewed, timeout=60))
        assert current["renewals"] == 1
        assert (current["current_period"]["end_date"], current["current_period"]["cancel_by"]) == (
            "2028-12-31", "2028-09-02")

        async def record_renewed():
            r = (await http.get(f"{projection}/api/v1/contracts/{contract_id}", headers=OPS)).json()
            return r if r["end_date"] == "2028-12-31" else None

        record = await eventually(record_renewed, timeout=60)  # the shared record runs on, with its history
        assert record["state"] == "active"
        assert [(e["event_type"], e["changes"]) for e in record["history"] if e["event_type"] == "ContractRenewed"] == [
            ("ContractRenewed", [{"field": "end_date", "before": "2027-12-31", "after": "2028-12-31"}])]

        # An obligation: the SLA report due 31 March 2028 falls due, goes overdue, is repeated and escalates.
        recorded = await http.post(f"{clm}/api/v1/contracts/{contract_id}/obligations", headers=MANAGER, json={
            "kind": "report", "description": f"SLA report Q1 {run}", "owners": [ann], "due_date": "2028-03-31"})
        assert recorded.status_code == 201, recorded.text
        obligation_id = recorded.json()["obligation_id"]
        series = f"obligation:{obligation_id}/2028-03-31"  # deliveries() and series_stopped() now read this one

        async def notified(occurrence: str, to: set[str]):
            rows = [d for d in await deliveries() if d["occurrence_key"] == f"{series}/{occurrence}"]
            sent = {d["address"] for d in rows if d["state"] == "sent" and mailed(d)}
            assert to <= sent, f"{occurrence}: {[(d['address'], d['state']) for d in rows]}"
            return rows

        await move(scheduler, berlin(dt.date(2028, 3, 31)))
        await eventually(lambda: notified("due", {ann}), timeout=60)
        await move(scheduler, berlin(dt.date(2028, 4, 1)))
        first = await eventually(lambda: notified("overdue/1", {ann}), timeout=60)
        assert {d["recipient"] for d in first} == {ann}
        await move(scheduler, berlin(dt.date(2028, 4, 4), minutes=5))
        second = await eventually(lambda: notified("overdue/2", {ann, team}), timeout=60)
        assert {d["recipient"] for d in second} == {ann, "role:contract_manager"}

        # Ann sends the report and completes the occurrence with it: the notices stop.
        completed = await http.post(f"{clm}/api/v1/obligations/{obligation_id}/occurrences/2028-03-31/completion",
                                    headers=as_owner(ann), data={"note": "sent to the customer"},
                                    files={"evidence": ("sla-q1.pdf", b"%PDF-1.4 report", "application/pdf")})
        assert completed.status_code == 200, completed.text
        await eventually(series_stopped, timeout=60)
        stopped_with = len(await deliveries())
        await move(scheduler, berlin(dt.date(2028, 4, 8)))
        await move(scheduler, berlin(dt.date(2028, 4, 12)))
        assert len(await deliveries()) == stopped_with

        # Past period 2's notice deadline (2 October 2028, in Berlin): a notice is refused.
        await move(clm, berlin(dt.date(2028, 10, 3), minutes=30))
        late = await http.post(f"{clm}/api/v1/contracts/{contract_id}/termination-notice", headers=MANAGER,
                               json={"reason": "budget cut"})
        assert late.status_code == 409, late.text
        assert late.json()["rule"] == "termination.after_notice_deadline"
        assert (late.json()["notice_deadline"], late.json()["next_possible_end"]) == ("2028-10-02", "2029-12-31")
