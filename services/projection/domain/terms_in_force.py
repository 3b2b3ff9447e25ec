"""The terms in force on a day (phase 7): the parent's executed terms with, field by field, each
amendment in force (executed or active) whose effective date is on or before that day applied in
effective-date order. Each field names the contract it came from.

An amendment changes negotiated terms; the dates stay the parent's (an amendment's own dates are
its document's, beginning on its effective date). A tacit renewal moves the record's end date; the
end in force on a day before that renewal is the end the contract had then (`end_in_force`)."""

import datetime as dt
from typing import Any, Iterable, Mapping
from uuid import UUID

DATE_FIELDS = ("start_date", "end_date", "time_zone")
NEGOTIATED_FIELDS = ("liability_cap", "liability_cap_currency", "payment_days", "auto_renewal", "governing_law")


def end_in_force(current_end: dt.date | None, renewed_ends: Iterable[tuple[dt.date, dt.date]],
                 as_of: dt.date) -> dt.date | None:
    """`renewed_ends`: (end before, end after) of each tacit renewal. On a day up to a period's end,
    that period's end is in force; after the last renewed end, the current one."""
    for before, _ in sorted(renewed_ends):
        if as_of <= before:
            return before
    return current_end


def terms_in_force(parent: Mapping[str, Any], amendments: Iterable[Mapping[str, Any]],
                   as_of: dt.date) -> tuple[dict[str, tuple[Any, UUID]], list[UUID]]:
    """Returns ({field: (value, contract it came from)}, the amendments applied, in order).
    `amendments`: rows with contract_id, effective_date, in_force and the negotiated fields."""
    terms = {name: (parent[name], parent["contract_id"]) for name in (*DATE_FIELDS, *NEGOTIATED_FIELDS)}
    applied = []
    for amendment in sorted(amendments, key=lambda a: a["effective_date"]):  # stable: the link order breaks ties
        if not amendment["in_force"] or amendment["effective_date"] > as_of:
            continue
        applied.append(amendment["contract_id"])
        for name in NEGOTIATED_FIELDS:
            if amendment[name] is not None:
                terms[name] = (amendment[name], amendment["contract_id"])
    return terms, applied
