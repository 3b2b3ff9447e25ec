"""The service contract life-cycle rules (docs/domain.md, "Service contract life cycle"), by name.

Every refusal names one of these in its error body (`rule`), so a caller knows which rule it met.
"""

from shared.events.orders import ServiceState

TERMINAL = frozenset({ServiceState.EXPIRED, ServiceState.CANCELED})

# Expired and Canceled are terminal: every further change is refused.
STATE_TERMINAL = "state.terminal"
# Dates lie within shared/backbone/clock.py's EARLIEST_DATE..LATEST_DATE (timers derive instants from them).
DATES_OUT_OF_RANGE = "dates.out_of_range"
# End date on or after start date.
DATES_END_BEFORE_START = "dates.end_before_start"
# A line's or entitlement's dates lie within its parent's (contract, and line for a line's
# entitlement), on creation and on every change, the parent's included.
DATES_CHILD_WITHIN_PARENT = "dates.child_within_parent"
# Active: the start date can no longer change ...
ACTIVE_START_DATE_FROZEN = "active.start_date_frozen"
# ... and the end date can only be extended.
ACTIVE_END_DATE_EXTEND_ONLY = "active.end_date_extend_only"
# Nothing new may be dated to end before today once the contract is Active.
DATES_END_BEFORE_TODAY = "dates.end_before_today"
# Lines and entitlements are removed only while Draft.
DRAFT_REMOVE_ONLY_IN_DRAFT = "draft.remove_only_in_draft"
# Suspended: only field edits and creating related records are allowed.
SUSPENDED_ONLY_FIELD_EDITS = "suspended.only_field_edits"
# MACD disconnect ends an Active line early, on a date from today to its current end.
MACD_DISCONNECT_ONLY_ACTIVE = "macd.disconnect_only_active"
MACD_DISCONNECT_DATE = "macd.disconnect_date"
# Lines and entitlements cover products the contract's account owns.
COVERAGE_ACCOUNT_MISMATCH = "coverage.account_mismatch"
# Sold products and install base items: suspend what is active, resume what is suspended.
PRODUCT_ALREADY_SUSPENDED = "product.already_suspended"
PRODUCT_NOT_SUSPENDED = "product.not_suspended"
# Dates are read in an IANA time zone.
TIME_ZONE_UNKNOWN = "contract.time_zone_unknown"
# Ids are unique within a contract: a draft lists each line and entitlement once. (An id already
# taken by a record with other terms is `<record>.already_exists`: errors.AlreadyExists.)
ITEM_DUPLICATE_ID = "item.duplicate_id"
# An entitlement attaches to a line of the same contract.
ENTITLEMENT_LINE_UNKNOWN = "entitlement.line_unknown"
