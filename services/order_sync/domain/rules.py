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
# The named exception to the two above (docs/domain.md seed 002, "applies approved renewals"): the
# legal contract renewed tacitly (clm's ContractRenewed), so the contract, and each open line and
# entitlement ending on the renewed period's end, run on to the new period's end, Suspended ones
# too (domain/service_contract/renewal.py). Manual edits stay under the rules above.
RENEWAL_APPLIES_APPROVED_RENEWALS = "renewal.applies_approved_renewals"
# A renewal's new end lies after the end of the period it renews.
RENEWAL_END_NOT_LATER = "renewal.end_not_later"
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

# -- quotes (docs/design/contracting.md, "Quote") -------------------------------------------------
# Approved by the customer: the quote is what the contract is drawn from, so nothing changes.
QUOTE_APPROVED_IMMUTABLE = "quote.approved_immutable"
# Rejected and Expired are terminal as well.
QUOTE_TERMINAL = "quote.terminal"
# Its valid-until date has ended (in its zone): it can no longer be approved or revised, only expire.
QUOTE_VALIDITY_ENDED = "quote.validity_ended"
# A quote is valid until today or later when drafted or revised.
QUOTE_VALID_UNTIL_PAST = "quote.valid_until_past"
# An ISO 4217 code with a minor unit (not a fund, metal or test code), in which prices can be rounded.
QUOTE_CURRENCY_UNKNOWN = "quote.currency_unknown"
QUOTE_TIME_ZONE_UNKNOWN = "quote.time_zone_unknown"
QUOTE_QUANTITY_NOT_POSITIVE = "quote.quantity_not_positive"
QUOTE_UNIT_PRICE_NEGATIVE = "quote.unit_price_negative"
# Quantities and unit prices below a trillion: what any deal needs, and what prices exactly.
QUOTE_AMOUNT_TOO_LARGE = "quote.amount_too_large"
QUOTE_DISCOUNT_OUT_OF_RANGE = "quote.discount_out_of_range"  # 0 to 100 percent
# A line's end date on or after its start date.
QUOTE_LINE_DATES = "quote.line_dates"
QUOTE_LINES_EMPTY = "quote.lines_empty"
QUOTE_LINE_DUPLICATE_ID = "quote.line_duplicate_id"
# -- catalogue (domain/catalogue.py) ----------------------------------------------------------------
# A SKU's entry grants at least one entitlement; each template's name is unique within the entry.
CATALOGUE_ENTITLEMENTS_EMPTY = "catalogue.entitlements_empty"
CATALOGUE_ENTITLEMENT_DUPLICATE = "catalogue.entitlement_duplicate"
# A SKU is letters, digits and - _ . / (it is a path segment of the API).
CATALOGUE_SKU_INVALID = "catalogue.sku_invalid"
# -- orders (domain/order.py): why an order line falls out ------------------------------------------
ORDER_SKU_NOT_IN_CATALOGUE = "order.sku_not_in_catalogue"
ORDER_SKU_RETIRED = "order.sku_retired"
# A service contract line holds a whole number of units.
ORDER_QUANTITY_NOT_WHOLE = "order.quantity_not_whole"
# The service contract refused the line (its own rule, e.g. dates outside the contract's).
ORDER_SERVICE_CONTRACT_REFUSED = "order.service_contract_refused"
# Only a line that fell out is retried; a fulfilled one stays as it is.
ORDER_LINE_NOT_IN_FALLOUT = "order.line_not_in_fallout"
# Only a published SKU is retired.
CATALOGUE_RETIRE_ONLY_PUBLISHED = "catalogue.retire_only_published"
