"""Contracting's rules, by name. Every refusal names one of these in its error body (`rule`); a
rule that order sync also enforces has the same name there (docs/architecture.md, "Rules")."""

# End date on or after start date.
DATES_END_BEFORE_START = "dates.end_before_start"
# Every contract has a customer among its parties.
CONTRACT_CUSTOMER_REQUIRED = "contract.customer_required"
# Dates are read in an IANA time zone.
TIME_ZONE_UNKNOWN = "contract.time_zone_unknown"
# Only a draft is activated (phase 6); an active contract is not activated again.
ACTIVATE_ONLY_FROM_DRAFT = "contract.activate_only_from_draft"
