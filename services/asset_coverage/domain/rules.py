"""The rules of operations (docs/design/operations.md), by name: every refusal names one in its
error body (`rule`), so a caller knows which rule it met."""

# Expired and Canceled are terminal: nothing more changes (links included).
STATE_TERMINAL = "state.terminal"
# Dates lie within shared/backbone/clock.py's EARLIEST_DATE..LATEST_DATE (timers derive instants from them).
DATES_OUT_OF_RANGE = "dates.out_of_range"
DATES_END_BEFORE_START = "dates.end_before_start"
# Once out of Draft a vendor contract's start date is fixed and its end date can only be extended.
ACTIVE_START_DATE_FROZEN = "active.start_date_frozen"
ACTIVE_END_DATE_EXTEND_ONLY = "active.end_date_extend_only"
# The contract team owns the legal terms of a contract that came from contracting.
LEGAL_TERMS_OWNED_BY_CONTRACTING = "ownership.legal_terms_owned_by_contracting"
# A link's dates lie within its contract's dates.
LINK_WITHIN_CONTRACT = "link.within_contract"
LINK_UNKNOWN = "link.unknown"
ASSET_UNKNOWN = "asset.unknown"
# Dates are read in an IANA time zone.
TIME_ZONE_UNKNOWN = "dates.time_zone_unknown"
# Vendor + vendor contract number are a vendor contract's natural key (its id follows from them).
NATURAL_KEY_FIXED = "terms.natural_key_fixed"
# A renewal names the contract it renews, which must exist here.
PREDECESSOR_UNKNOWN = "contract.predecessor_unknown"
# An asset's id is the one operations knows it by: letters, digits and . _ : / # - (ASSET_ID_PATTERN).
ASSET_ID_INVALID = "asset.id_invalid"
# Finance sets a contract's costs, nothing else of its operational terms.
FINANCE_SETS_COSTS_ONLY = "ownership.finance_sets_costs_only"
# A revision changes terms; it cannot remove one a contract needs (number, name, model, dates, zone).
TERMS_REQUIRED = "terms.required"
# What the event models check beyond the request schema (ISO 4217 codes, decimal places, ranges,
# licence fields for software only), refused naming the field.
ASSET_DETAILS_INVALID = "asset.details_invalid"
OPERATIONAL_TERMS_INVALID = "operational_terms.invalid"
TERMS_INVALID = "terms.invalid"
# A change window ends after it starts, names what it is on (assets and/or a site), in a known zone.
WINDOW_ENDS_BEFORE_START = "window.ends_before_start"
WINDOW_NOTHING_AFFECTED = "window.nothing_affected"
WINDOW_UNKNOWN_TIME_ZONE = "window.unknown_time_zone"
# A canceled change window changes no more.
WINDOW_CANCELED = "window.canceled"
# An owner's calendar feed is for the owner themself (an asset manager may subscribe to anyone's).
FEED_OWNER_ONLY_SELF = "feed.owner_only_self"
# A revision keeps the plan's required fields and leaves it valid.
WINDOW_FIELD_REQUIRED = "window.field_required"
WINDOW_FIELD_INVALID = "window.field_invalid"
# A renewal task is completed by an asset manager or one of its assignees; a superseded one is done.
RENEWAL_TASK_NOT_ASSIGNEE = "renewal_task.not_assignee"
RENEWAL_TASK_SUPERSEDED = "renewal_task.superseded"
