"""The renewal calendar of the projection on real PostgreSQL and Kafka: clm's renewal-term,
obligation and the scheduler's expiry events, published as the services do, read back over HTTP
as the renewals pipeline (JSON and CSV), the renewals at risk, and iCalendar feeds (parsed back
with icalendar); the rebuilt rows equal the live ones."""

import csv
import datetime as dt
import io
import uuid
from decimal import Decimal

import icalendar
import pytest
import sqlalchemy as sa

from services.projection.adapters.renewal_calendar import completions, obligations, renewal_dates
from services.projection.application.rebuild import rebuild
from shared.events.contracts import ContractRequested
from shared.events.envelope import Envelope
from shared.events.lifecycle import ContractExpired
from shared.events.obligations import ObligationCanceled, ObligationOccurrenceCompleted, ObligationRecorded, Recurrence
from shared.events.renewal_terms import (
    ContractPeriod, ContractRenewed, RenewalReminderAcknowledged, RenewalTerms, RenewalTermsSet, TerminationNoticeGiven,
)
from tests.conftest import bearer, eventually, running_service, token
from tests.service_contract_story import publish
from tests.unit.test_event_contracts import SAMPLES

pytestmark = pytest.mark.integration

TODAY = dt.datetime.now(dt.UTC).date()
AT = dt.datetime.now(dt.UTC).replace(microsecond=0)


def day(offset: int) -> dt.date:
    return TODAY + dt.timedelta(days=offset)


class Calendar:
    """Four contracts around today: A renews tacitly (cancel-by in 10 days), B is express and ends in
    20 days, C renewed into period 2 (cancel-by in 45 days, end in 75), D's cancel-by passed while its
    notice deadline has not; two obligations of A's."""

    def __init__(self):
        self.a, self.b, self.c, self.d = (uuid.uuid4() for _ in range(4))
        self.monthly, self.once = uuid.uuid4(), uuid.uuid4()
        self.owner = f"ann-{self.a.hex[:8]}"
        self.versions: dict[uuid.UUID, int] = {}

    def _envelope(self, stream: uuid.UUID, event) -> Envelope:
        self.versions[stream] = self.versions.get(stream, 0) + 1
        return Envelope(event, self.versions[stream])

    def _requested(self, contract_id: uuid.UUID, name: str, deal_size: str) -> Envelope:
        sample = SAMPLES[ContractRequested]
        deal = sample.deal.model_copy(update={"deal_size": Decimal(deal_size)})
        return self._envelope(contract_id, sample.model_copy(update={
            "contract_id": contract_id, "number": f"CNT-{name}-{contract_id.hex[:6]}", "title": f"Renewals {name}",
            "deal": deal, "currency": "EUR"}))

    def _terms(self, contract_id: uuid.UUID, renewal: str, owners: list[str], period: ContractPeriod,
               max_renewals: int | None = None) -> Envelope:
        terms = RenewalTerms(initial_term="P12M", renewal=renewal, notice_period="P30D", lead_time="P30D",
                             max_renewals=max_renewals, owners=owners)
        return self._envelope(contract_id, RenewalTermsSet(
            contract_id=contract_id, terms=terms, start_date=period.start_date, time_zone="Europe/Berlin",
            period=period, set_by="cm-1", at=AT))

    @staticmethod
    def period(number: int, cancel_by: int, notice: int, end: int) -> ContractPeriod:
        return ContractPeriod(number=number, start_date=day(end - 364), end_date=day(end), notice_deadline=day(notice),
                              cancel_by=day(cancel_by))

    def first(self) -> list[Envelope]:
        a_period = self.period(1, 10, 40, 130)
        return [
            self._requested(self.a, "A", "120000.50"),
            self._terms(self.a, "tacit", [self.owner, "role:finance"], a_period),
            self._requested(self.b, "B", "1000"),
            self._terms(self.b, "express", ["bob"], self.period(1, -50, -20, 20)),
            self._requested(self.c, "C", "5000"),
            self._terms(self.c, "tacit", ["carl"], self.period(1, -320, -290, -260)),
            self._envelope(self.c, ContractRenewed(contract_id=self.c, previous_end_date=day(-260), renewals=1, at=AT,
                                                   period=self.period(2, 45, 60, 75))),
            self._requested(self.d, "D", "700"),
            self._terms(self.d, "tacit", ["dora"], self.period(1, -5, 5, 35)),
            self._envelope(self.monthly, ObligationRecorded(
                obligation_id=self.monthly, contract_id=self.a, kind="report", description="monthly SLA report",
                owners=[self.owner], recurrence=Recurrence(rrule="FREQ=MONTHLY;BYMONTHDAY=-1", start=day(-60)),
                time_zone="Europe/Berlin", recorded_by="cm-1", at=AT)),
            self._envelope(self.once, ObligationRecorded(
                obligation_id=self.once, contract_id=self.a, kind="payment", description="pay the setup fee",
                owners=["role:finance"], due_date=day(15), time_zone="Europe/Berlin", recorded_by="cm-1", at=AT)),
        ]

    def first_due(self) -> dt.date:
        return Recurrence(rrule="FREQ=MONTHLY;BYMONTHDAY=-1", start=day(-60)).occurrences(after=day(-31), limit=1)[0]

    def rest(self) -> list[Envelope]:
        return [
            *(self._envelope(self.a, RenewalReminderAcknowledged(
                contract_id=self.a, period_number=1, anchor="cancel_by", acknowledged_by=who, at=AT))
              for who in (self.owner, "cm-1")),  # a second acknowledgement adds nothing
            self._envelope(self.c, TerminationNoticeGiven(contract_id=self.c, period_number=2, given_on=TODAY,
                                                          end_date=day(75), given_by="carl", at=AT)),
            self._envelope(self.d, ContractExpired(contract_id=self.d, end_date=day(35), expired_at=AT)),
            self._envelope(self.monthly, ObligationOccurrenceCompleted(
                obligation_id=self.monthly, contract_id=self.a, due_on=self.first_due(), note="sent",
                completed_by=self.owner, at=AT)),
            self._envelope(self.once, ObligationCanceled(obligation_id=self.once, contract_id=self.a, canceled_by="cm-1",
                                                         at=AT)),
        ]

    def ids(self) -> list[uuid.UUID]:
        return [self.a, self.b, self.c, self.d]


def _mine(rows: list[dict], cal: Calendar) -> list[dict]:
    ids = {str(i) for i in cal.ids()}
    return [r for r in rows if str(r["contract_id"]) in ids]


async def _snapshot(engine, cal: Calendar) -> list:
    async with engine.connect() as conn:
        dates = (await conn.execute(sa.select(renewal_dates).where(renewal_dates.c.contract_id.in_(cal.ids()))
                                    .order_by(renewal_dates.c.contract_id))).all()
        kept = (await conn.execute(sa.select(obligations).where(obligations.c.contract_id == cal.a)
                                   .order_by(obligations.c.obligation_id))).all()
        done = (await conn.execute(sa.select(completions).where(completions.c.obligation_id == cal.monthly))).all()
    return [tuple(r) for r in [*dates, *kept, *done]]


def _components(ics: bytes, name: str) -> dict[str, icalendar.cal.Component]:
    calendar = icalendar.Calendar.from_ical(ics)
    return {str(c["uid"]): c for c in calendar.walk(name)}


async def test_pipeline_at_risk_feeds_and_rebuild(service_env, stack):
    cal = Calendar()
    async with running_service("projection", service_env("projection")) as projection:
        engine = projection.app.state.context.engine

        async def pipeline(**params):
            response = await projection.get("/api/v1/renewals/pipeline", params=params, headers=bearer("sales"))
            assert response.status_code == 200, response.text
            return response.json()

        async def settled_first():
            rows = _mine((await pipeline(within=90))["items"], cal)
            return rows if len(rows) == 5 else None

        first_part = cal.first()
        await publish(stack.kafka_admin, first_part + first_part[:4])  # redelivered: applied once
        rows = await eventually(settled_first, timeout=60)
        assert [(r["contract_id"], r["anchor"], r["date"]) for r in rows] == [
            (str(cal.a), "cancel_by", day(10).isoformat()), (str(cal.b), "end", day(20).isoformat()),
            (str(cal.d), "end", day(35).isoformat()), (str(cal.c), "cancel_by", day(45).isoformat()),
            (str(cal.c), "end", day(75).isoformat())]
        first = rows[0]
        assert first == {"contract_id": str(cal.a), "number": f"CNT-A-{cal.a.hex[:6]}", "title": "Renewals A",
                         "anchor": "cancel_by", "date": day(10).isoformat(), "period_number": 1, "renewal": "tacit",
                         "value": "120000.50", "currency": "EUR", "acknowledged": False, "termination_given": False}
        assert rows[3]["period_number"] == 2
        within_30 = _mine((await pipeline(within=30))["items"], cal)
        assert [(r["contract_id"], r["anchor"]) for r in within_30] == [(str(cal.a), "cancel_by"), (str(cal.b), "end")]
        buckets = (await pipeline())["buckets"]
        assert [b["within_days"] for b in buckets] == [30, 60, 90]
        assert buckets[0]["count"] >= 2 and buckets[2]["count"] >= 5 and buckets[2]["contracts"] >= 4

        csv_response = await projection.get("/api/v1/renewals/pipeline", params={"within": 90},
                                            headers={**bearer("finance"), "Accept": "text/csv"})
        assert csv_response.headers["content-type"].startswith("text/csv")
        table = list(csv.reader(io.StringIO(csv_response.text)))
        assert table[0] == ["contract_id", "number", "title", "anchor", "date", "period_number", "renewal", "value",
                            "currency", "acknowledged", "termination_given"]
        assert [str(cal.a), f"CNT-A-{cal.a.hex[:6]}", "Renewals A", "cancel_by", day(10).isoformat(), "1", "tacit",
                "120000.50", "EUR", "false", "false"] in table

        risk = await projection.get("/api/v1/renewals/at-risk", headers=bearer("legal_counsel"))
        assert risk.status_code == 200
        reasons = {r["contract_id"]: (r["reason"], r["days_left"]) for r in _mine(risk.json()["items"], cal)}
        assert reasons == {str(cal.a): ("cancel_by_near", 40), str(cal.b): ("ending_without_successor", 20),
                           str(cal.d): ("cancel_by_passed", 5)}  # C: its cancel-by is 45 days away

        # Feeds: a contract's, a user's (by id and by the roles the creator holds), another user's refused.
        contract_feed = await projection.post("/api/v1/calendar-feeds", json={"scope": "contract", "value": str(cal.a)},
                                              headers=bearer("sales"))
        assert contract_feed.status_code == 201, contract_feed.text
        owner_headers = {"Authorization": f"Bearer {token('finance', subject=cal.owner)}"}
        user_feed = await projection.post("/api/v1/calendar-feeds", json={"scope": "user", "value": cal.owner},
                                          headers=owner_headers)
        assert user_feed.status_code == 201
        refused = await projection.post("/api/v1/calendar-feeds", json={"scope": "user", "value": cal.owner},
                                        headers=bearer("sales"))
        assert (refused.status_code, refused.json()["rule"]) == (403, "calendar_feed.user_only_self")
        managed = await projection.post("/api/v1/calendar-feeds", json={"scope": "user", "value": cal.owner},
                                        headers=bearer("contract_manager"))
        assert managed.status_code == 201
        bad = await projection.post("/api/v1/calendar-feeds", json={"scope": "contract", "value": "nope"},
                                    headers=bearer("sales"))
        assert (bad.status_code, bad.json()["rule"]) == (422, "calendar_feed.contract_id_invalid")
        listed = await projection.get("/api/v1/calendar-feeds", headers=owner_headers)
        assert [f["feed_id"] for f in listed.json()["items"]] == [user_feed.json()["feed_id"]]
        assert "token" not in listed.json()["items"][0]

        contract_url = contract_feed.json()["url"].removeprefix("http://test")
        ics = await projection.get(contract_url)  # no bearer: the token is the credential
        assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar")
        events = _components(ics.content, "VEVENT")
        cancel_by = events[f"renewal-{cal.a}-p1-cancel-by@projection.clm-platform"]
        assert cancel_by.decoded("dtstart") == day(10)
        assert sorted(a.decoded("trigger") for a in cancel_by.walk("VALARM")) == [
            -dt.timedelta(days=n) for n in (90, 60, 30, 0)]
        assert events[f"renewal-{cal.a}-p1-end@projection.clm-platform"].decoded("dtstart") == day(130)
        todos = _components(ics.content, "VTODO")
        first_due = cal.first_due()
        assert todos[f"obligation-{cal.monthly}-{first_due:%Y%m%d}@projection.clm-platform"].decoded("due") == first_due
        assert f"obligation-{cal.once}-{day(15):%Y%m%d}@projection.clm-platform" in todos
        assert len([u for u in todos if str(cal.monthly) in u]) >= 13  # a month back to 400 days ahead

        user_ics = await projection.get(user_feed.json()["url"].removeprefix("http://test"))
        user_events, user_todos = _components(user_ics.content, "VEVENT"), _components(user_ics.content, "VTODO")
        assert {u for u in user_events if any(str(i) in u for i in cal.ids())} == {
            f"renewal-{cal.a}-p1-cancel-by@projection.clm-platform", f"renewal-{cal.a}-p1-end@projection.clm-platform"}
        assert f"obligation-{cal.once}-{day(15):%Y%m%d}@projection.clm-platform" in user_todos  # by role:finance

        # Acknowledged, noticed, expired, completed, canceled.
        await publish(stack.kafka_admin, cal.rest())

        async def settled_rest():
            rows = {(r["contract_id"], r["anchor"]): r for r in _mine((await pipeline(within=90))["items"], cal)}
            ics = await projection.get(contract_url)
            todos = _components(ics.content, "VTODO")
            done = todos.get(f"obligation-{cal.monthly}-{first_due:%Y%m%d}@projection.clm-platform")
            acknowledged = rows.get((str(cal.a), "cancel_by"), {}).get("acknowledged")
            return (rows, todos) if acknowledged and (str(cal.d), "end") not in rows and done is not None and str(
                done.get("status")) == "COMPLETED" and f"obligation-{cal.once}-{day(15):%Y%m%d}@projection.clm-platform" \
                not in todos else None

        rows, todos = await eventually(settled_rest, timeout=60)
        async with engine.connect() as conn:
            stored = (await conn.execute(sa.select(renewal_dates).where(renewal_dates.c.contract_id == cal.a))).one()
        assert stored.acknowledged == [{"period_number": 1, "anchor": "cancel_by"}] and stored.renewals is None
        assert rows[(str(cal.a), "cancel_by")]["acknowledged"] is True
        assert rows[(str(cal.c), "end")]["termination_given"] is True
        risk = _mine((await projection.get("/api/v1/renewals/at-risk", headers=bearer("sales"))).json()["items"], cal)
        assert [r["contract_id"] for r in risk] == [str(cal.b)]
        risk_csv = await projection.get("/api/v1/renewals/at-risk", params={"format": "csv"}, headers=bearer("sales"))
        at_risk_rows = list(csv.DictReader(io.StringIO(risk_csv.text)))
        assert any(r["contract_id"] == str(cal.b) and r["value"] == "1000" and r["end_date"] == day(20).isoformat()
                   for r in at_risk_rows)

        revoked = await projection.delete(f"/api/v1/calendar-feeds/{contract_feed.json()['feed_id']}",
                                          headers=owner_headers)
        assert revoked.status_code == 404  # not the caller's feed
        revoked = await projection.delete(f"/api/v1/calendar-feeds/{contract_feed.json()['feed_id']}",
                                          headers=bearer("sales"))
        assert revoked.status_code == 200 and revoked.json()["revoked_at"]
        gone = await projection.get(contract_url)
        assert (gone.status_code, gone.json()["rule"]) == (404, "calendar_feed.not_found")
        unknown = await projection.get("/api/v1/calendar/not-a-token.ics")
        assert unknown.status_code == 404

        live = await _snapshot(engine, cal)
        assert len(live) == 4 + 2 + 1

    from sqlalchemy.ext.asyncio import create_async_engine

    rebuild_engine = create_async_engine(service_env("projection")["DATABASE_URL"],
                                         connect_args={"server_settings": {"search_path": "projection"}})
    try:
        await rebuild(rebuild_engine, stack.kafka_for("projection"))
        assert await _snapshot(rebuild_engine, cal) == live
    finally:
        await rebuild_engine.dispose()
