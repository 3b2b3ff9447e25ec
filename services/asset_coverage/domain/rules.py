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
# A renewal task is completed by an asset manager or one of its assignees; a superseded one is done.
RENEWAL_TASK_NOT_ASSIGNEE = "renewal_task.not_assignee"
RENEWAL_TASK_SUPERSEDED = "renewal_task.superseded"
