"""Calendar feed mechanics (shared/backbone/calendar_feeds.py): tokens are random and stored only
as their SHA-256; the ICS document parses (icalendar) with stable UIDs, DTSTAMPs, UTC instants for
change windows and DATE values with VALARMs for renewal deadlines."""

import datetime as dt
import hashlib
from types import SimpleNamespace
from uuid import uuid4

import icalendar

from shared.backbone import calendar_feeds
from shared.backbone.calendar_feeds import Deadline, TimedEntry
from services.asset_coverage.application.calendar_feeds import renewal_deadline, window_entry

NOW = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)


def test_tokens_are_random_and_long_and_only_their_sha256_is_kept():
    tokens = {calendar_feeds.new_token() for _ in range(100)}
    assert len(tokens) == 100 and all(len(t) >= 43 for t in tokens)
    token = tokens.pop()
    assert calendar_feeds.token_hash(token) == hashlib.sha256(token.encode()).hexdigest()
    assert token not in calendar_feeds.token_hash(token)


def components(ics: bytes, name: str) -> list:
    return [c for c in icalendar.Calendar.from_ical(ics).walk() if c.name == name]


def test_a_change_window_is_a_vevent_in_utc_with_its_uid_and_location():
    berlin = dt.timezone(dt.timedelta(hours=1))
    entry = TimedEntry(uid="change-window-1@x", summary="Firmware roll-out", stamp=NOW,
                       starts_at=dt.datetime(2027, 3, 1, 9, tzinfo=berlin), ends_at=dt.datetime(2027, 3, 1, 12, tzinfo=berlin),
                       location="Plant 4", description="Assets: PLC-2")
    [event] = components(calendar_feeds.render("Plant 4", [entry]), "VEVENT")
    assert str(event["uid"]) == "change-window-1@x"
    assert event.decoded("dtstart") == dt.datetime(2027, 3, 1, 8, tzinfo=dt.UTC)
    assert event.decoded("dtend") == dt.datetime(2027, 3, 1, 11, tzinfo=dt.UTC)
    assert event.decoded("dtstamp") == NOW
    assert str(event["location"]) == "Plant 4" and str(event["status"]) == "CONFIRMED"


def test_a_renewal_deadline_is_a_vtodo_due_on_the_date_with_an_alarm_per_offset_and_all_day_events():
    deadline = Deadline(uid="renewal-c1-20270331@x", summary="Renewal deadline: VC-1", due=dt.date(2027, 3, 31),
                        stamp=NOW, alarm_days_before=(90, 60, 30, 0))
    ics = calendar_feeds.render("feed", [deadline])
    [todo] = components(ics, "VTODO")
    assert todo.decoded("due") == dt.date(2027, 3, 31) and b"DUE;VALUE=DATE:20270331" in ics
    triggers = sorted(a.decoded("trigger") for a in todo.walk("VALARM"))
    assert triggers == [-dt.timedelta(days=d) for d in (90, 60, 30, 0)]
    assert all(a["trigger"].params["RELATED"] == "END" for a in todo.walk("VALARM"))
    events = {str(e["uid"]): e.decoded("dtstart") for e in components(ics, "VEVENT")}
    assert events == {
        "renewal-c1-20270331-90d@x": dt.date(2026, 12, 31), "renewal-c1-20270331-60d@x": dt.date(2027, 1, 30),
        "renewal-c1-20270331-30d@x": dt.date(2027, 3, 1), "renewal-c1-20270331-0d@x": dt.date(2027, 3, 31),
    }


def test_the_same_records_render_the_same_uids_so_clients_update_rather_than_duplicate():
    contract_id, window_id = uuid4(), uuid4()
    contract = SimpleNamespace(contract_id=contract_id, number="VC-1", name="Robot maintenance", vendor="KUKA",
                               end_date=dt.date(2027, 6, 30), owners=["ot-lead@example.com"], asset_ids=["ROB-1"],
                               changed_at=NOW)
    window = SimpleNamespace(window_id=window_id, title="Visit", starts_at=NOW, ends_at=NOW + dt.timedelta(hours=2),
                             asset_ids=["ROB-1"], site="Plant 4", owner=None, contract_id=None, vendor="KUKA",
                             canceled=True)
    render = lambda now: calendar_feeds.render("f", [window_entry(window, now), renewal_deadline(contract, (90, 0))])
    uids = lambda ics: sorted(str(c["uid"]) for c in icalendar.Calendar.from_ical(ics).walk() if "uid" in c)
    assert uids(render(NOW)) == uids(render(NOW + dt.timedelta(days=1)))
    assert f"change-window-{window_id}@asset-coverage.clm-platform" in uids(render(NOW))
    [event] = [e for e in components(render(NOW), "VEVENT") if str(e["uid"]).startswith("change-window")]
    assert str(event["status"]) == "CANCELLED"
