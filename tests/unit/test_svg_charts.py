"""The dashboard's SVG bar charts and page body, pure: what is drawn for given numbers, every text
escaped, and the renewals pipeline (rows as renewal_calendar.renewals_pipeline gives them) by month."""

import datetime as dt
import re
import uuid
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest

from services.projection.adapters.cycle_times import PHASES
from services.projection.api import svg_charts
from services.projection.api.dashboard import render
from services.projection.api.svg_charts import Series, bar_chart

SVG = "{http://www.w3.org/2000/svg}"


def bars(svg: str) -> list[tuple[str, str, float, float]]:
    """(series, category, value, drawn width) of each bar; parsing also proves the SVG well formed."""
    root = ET.fromstring(svg)
    return [(r.get("data-series"), r.get("data-category"), float(r.get("data-value")), float(r.get("width")))
            for r in root.iter(f"{SVG}rect") if r.get("class") == "bar"]


def test_bars_are_proportional_to_the_largest_value_and_labelled():
    svg = bar_chart("Hours", ["a", "b"], [Series("p50", (10.0, 5.0)), Series("p90", (20.0, None))], unit=" h")
    drawn = bars(svg)
    assert [(s, c, v) for s, c, v, _ in drawn] == [("p50", "a", 10.0), ("p90", "a", 20.0), ("p50", "b", 5.0)]
    widths = {(s, c): w for s, c, _, w in drawn}
    assert widths[("p90", "a")] == pytest.approx(2 * widths[("p50", "a")], abs=0.1)
    assert widths[("p50", "a")] == pytest.approx(2 * widths[("p50", "b")], abs=0.1)
    assert ">20 h</text>" in svg and ">5 h</text>" in svg and "<title>Hours</title>" in svg


def test_a_category_without_values_says_so_and_an_empty_chart_too():
    assert "no data" in bar_chart("x", ["a"], [Series("p50", (None,))]) and not bars(bar_chart("x", ["a"], [Series("p50", (None,))]))
    assert "nothing yet" in bar_chart("x", [], [Series("p50", ())])
    with pytest.raises(ValueError):
        bar_chart("x", ["a", "b"], [Series("p50", (1.0,))])


def test_every_text_is_escaped():
    hostile = '<script>alert("x")</script>&'
    svg = bar_chart(hostile, [hostile], [Series(hostile, (1.0,))])
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert bars(svg)[0][:2] == (hostile, hostile)  # the parser reads back the original text


def test_cycle_time_chart_draws_p50_and_p90_of_each_phase_in_order():
    rows = [{"phase": "approval", "p50_hours": 24.0, "p90_hours": 48.5}, {"phase": "request", "p50_hours": 2.0, "p90_hours": 3.0}]
    svg = svg_charts.cycle_time_chart(rows, PHASES)
    assert [(s, c, v) for s, c, v, _ in bars(svg)] == [
        ("p50", "request", 2.0), ("p90", "request", 3.0), ("p50", "approval", 24.0), ("p90", "approval", 48.5)]
    assert re.findall(r'<g class="row" data-category="(\w+)"', svg) == list(PHASES)


def test_bottleneck_charts_draw_the_open_count_and_the_oldest_age_each_on_its_scale():
    rows = [{"phase": p, "open": 0, "longest_waiting": []} for p in PHASES]
    rows[3] = {"phase": "approval", "open": 4, "longest_waiting": [{"age_hours": 72.5}, {"age_hours": 3.0}]}
    rows[1] = {"phase": "drafting", "open": 1, "longest_waiting": [{"age_hours": 7.25}]}
    opened, oldest = svg_charts.bottleneck_charts(rows).replace("</svg><svg", "</svg>\n<svg").split("\n")
    assert [(c, v) for _, c, v, _ in bars(opened)] == [(p, {"approval": 4.0, "drafting": 1.0}.get(p, 0.0)) for p in PHASES]
    assert [(c, v) for _, c, v, _ in bars(oldest)] == [("drafting", 7.25), ("approval", 72.5)]
    assert bars(oldest)[1][3] == pytest.approx(bars(opened)[3][3], abs=0.1)  # each its own longest bar


def pipeline_row(date: dt.date, value: str | None, currency: str | None = "EUR", title: str = "ACME") -> dict:
    return {"contract_id": uuid.uuid4(), "number": "CNT-1", "title": title, "anchor": "cancel_by", "date": date,
            "period_number": 1, "renewal": "tacit", "value": Decimal(value) if value else None, "currency": currency,
            "acknowledged": False, "termination_given": False}


def test_the_renewals_pipeline_counts_dates_and_sums_value_per_month_and_currency():
    rows = [pipeline_row(dt.date(2027, 3, 31), "1000"), pipeline_row(dt.date(2027, 1, 5), "250.50"),
            pipeline_row(dt.date(2027, 1, 31), "100", "USD"), pipeline_row(dt.date(2027, 1, 1), None)]
    months, per_month = svg_charts.pipeline_by_month(rows)
    assert months == ["2027-01", "2027-03"]
    assert per_month["2027-01"] == {"contracts": 3, "value EUR": 250.5, "value USD": 100.0}
    assert per_month["2027-03"] == {"contracts": 1, "value EUR": 1000.0}
    assert [(c, v) for _, c, v, _ in bars(svg_charts.renewals_pipeline_chart(rows))] == [("2027-01", 3.0), ("2027-03", 1.0)]


def test_the_page_body_shows_the_three_charts_and_escapes_the_titles():
    now = dt.datetime(2027, 1, 1, 12, tzinfo=dt.UTC)
    waiting = [{"phase": p, "open": 0, "longest_waiting": []} for p in PHASES]
    waiting[3] = {"phase": "approval", "open": 1, "longest_waiting": [{
        "contract_id": uuid.uuid4(), "number": "CNT-9", "title": "<img src=x onerror=alert(1)>", "assignee": "lea",
        "assignee_role": None, "queue": None, "since": now, "age_hours": 5.0}]}
    body = render("tester <x>", now, [{"phase": "request", "p50_hours": 1.0, "p90_hours": 2.0}], waiting,
                  [pipeline_row(dt.date(2027, 2, 1), "10", title="<b>bold</b>")],
                  [{"clause_key": "heading/<i>", "label": "<i>law</i>", "kind": "non_standard_clause", "deviations": 3,
                    "contracts": 2, "open": 1}])
    assert body.count("<svg ") == 4  # the bottlenecks in two
    assert "<img" not in body and "&lt;img src=x" in body and "&lt;b&gt;bold" in body and "tester &lt;x&gt;" in body
    assert "<i>" not in body and "<td>&lt;i&gt;law&lt;/i&gt;</td><td>non standard clause</td><td>3</td><td>2</td>" in body
    for section in ("cycle-times", "bottlenecks", "pipeline", "overridden-clauses"):
        assert f'<section id="{section}">' in body
