"""Bar charts as inline SVG, for the dashboard: no JavaScript, no library, readable without
styles. Pure functions of the numbers given; every text is escaped (titles are user input).

A chart is horizontal bars, one row per category with one bar per series (p50 and p90, say), the
value printed at the bar's end. Each bar carries `data-series`, `data-category` and `data-value`
so a test (or a script) can read what was drawn."""

from dataclasses import dataclass
from html import escape

COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728")
ROW_GAP, BAR_HEIGHT, LABEL_WIDTH, VALUE_WIDTH, TOP, LEGEND = 10, 16, 150, 70, 10, 24


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float | None, ...]  # one per category; none: nothing to draw


def _number(value: float) -> str:
    return f"{value:,.1f}" if value % 1 else f"{int(value):,}"


def bar_chart(title: str, categories: list[str], series: list[Series], *, unit: str = "", width: int = 640) -> str:
    """An <svg> with a <title>, one <g class="row"> per category and one <rect class="bar"> per
    series value; a category with no value shows "no data"."""
    if any(len(s.values) != len(categories) for s in series):
        raise ValueError("each series has one value per category")
    peak = max((v for s in series for v in s.values if v is not None), default=0) or 1
    plot = width - LABEL_WIDTH - VALUE_WIDTH
    row_height = len(series) * BAR_HEIGHT + ROW_GAP
    height = TOP + LEGEND + max(len(categories), 1) * row_height + ROW_GAP
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" aria-label="{escape(title)}"><title>{escape(title)}</title>']
    for n, s in enumerate(series):  # the legend
        x = LABEL_WIDTH + n * 120
        parts.append(f'<rect x="{x}" y="{TOP}" width="12" height="12" fill="{COLOURS[n % len(COLOURS)]}"/>'
                     f'<text x="{x + 16}" y="{TOP + 11}" font-size="12">{escape(s.name)}</text>')
    if not categories:
        parts.append(f'<text class="empty" x="{LABEL_WIDTH}" y="{TOP + LEGEND + 14}" font-size="13">nothing yet</text>')
    for row, category in enumerate(categories):
        y = TOP + LEGEND + row * row_height
        parts.append(f'<g class="row" data-category="{escape(category)}">'
                     f'<text x="{LABEL_WIDTH - 8}" y="{y + row_height / 2}" font-size="12" text-anchor="end">'
                     f'{escape(category)}</text>')
        if all(s.values[row] is None for s in series):
            parts.append(f'<text x="{LABEL_WIDTH}" y="{y + BAR_HEIGHT - 3}" font-size="11" fill="#777">no data</text>')
        for n, s in enumerate(series):
            value = s.values[row]
            if value is None:
                continue
            bar_y, length = y + n * BAR_HEIGHT, max(value / peak * plot, 1 if value else 0)
            parts.append(
                f'<rect class="bar" data-series="{escape(s.name)}" data-category="{escape(category)}" '
                f'data-value="{value:g}" x="{LABEL_WIDTH}" y="{bar_y}" width="{length:.1f}" height="{BAR_HEIGHT - 2}" '
                f'fill="{COLOURS[n % len(COLOURS)]}"><title>{escape(f"{category}, {s.name}: {_number(value)}{unit}")}'
                f'</title></rect><text x="{LABEL_WIDTH + length + 4:.1f}" y="{bar_y + BAR_HEIGHT - 4}" font-size="11">'
                f'{escape(_number(value) + unit)}</text>')
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


def cycle_time_chart(rows: list[dict], phases: tuple[str, ...]) -> str:
    """p50 and p90 (hours) per phase, from the ungrouped rows of the cycle-time query (adapters/cycle_times.py)."""
    by_phase = {r["phase"]: r for r in rows}
    values = [by_phase.get(p) for p in phases]
    return bar_chart("Cycle time per phase (hours)", list(phases), [
        Series("p50", tuple(v["p50_hours"] if v else None for v in values)),
        Series("p90", tuple(v["p90_hours"] if v else None for v in values)),
    ], unit=" h")


def bottleneck_charts(rows: list[dict]) -> str:
    """Two charts, each on its own scale: the contracts open per phase now, and how long the
    oldest of each has waited (hours), from cycle_times.bottlenecks."""
    phases = [r["phase"] for r in rows]
    return (bar_chart("Contracts waiting now, per phase", phases, [Series("open", tuple(float(r["open"]) for r in rows))])
            + bar_chart("Oldest waiting, per phase (hours)", phases, [Series("oldest", tuple(
                r["longest_waiting"][0]["age_hours"] if r["longest_waiting"] else None for r in rows))], unit=" h"))


def pipeline_by_month(rows: list[dict]) -> tuple[list[str], dict[str, dict[str, float]]]:
    """Months (YYYY-MM, in order) of the pipeline's dates, with the contracts and the value per
    currency falling in each (a value without a currency counts under "")."""
    months: dict[str, dict[str, float]] = {}
    for row in rows:
        month = months.setdefault(str(row["date"])[:7], {"contracts": 0.0})
        month["contracts"] += 1
        if row.get("value") is not None:
            key = f'value {row.get("currency") or ""}'.strip()
            month[key] = month.get(key, 0.0) + float(row["value"])
    return sorted(months), months


def renewals_pipeline_chart(rows: list[dict]) -> str:
    """The renewals pipeline (services/projection/adapters/renewal_calendar.renewals_pipeline's
    rows) by month: how many cancel-by or end dates fall in each."""
    months, counts = pipeline_by_month(rows)
    return bar_chart("Renewals pipeline by month (cancel-by and end dates)", months,
                     [Series("dates", tuple(counts[m]["contracts"] for m in months))])
