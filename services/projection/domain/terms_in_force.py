"""The terms in force on a day (phase 7): the parent's executed terms with, field by field, each
amendment in force (executed or active) whose effective date is on or before that day applied in
effective-date order. Each field names the contract it came from.

An amendment changes negotiated terms; the dates stay the parent's (an amendment's own dates are
its document's, beginning on its effective date; tacit renewals move the end in the renewal part)."""

import datetime as dt
from typing import Any, Iterable, Mapping
from uuid import UUID

DATE_FIELDS = ("start_date", "end_date", "time_zone")
NEGOTIATED_FIELDS = ("liability_cap", "liability_cap_currency", "payment_days", "auto_renewal", "governing_law")


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
