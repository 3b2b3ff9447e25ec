"""Contracting's rules, by name. Every refusal names one of these in its error body (`rule`); a
rule that order sync also enforces has the same name there (docs/architecture.md, "Rules"). Thresholds are named constants beside the rules that use
them."""

from decimal import Decimal

# End date on or after start date.
DATES_END_BEFORE_START = "dates.end_before_start"
# Dates lie within shared/backbone/clock.py's EARLIEST_DATE..LATEST_DATE (expiry timers derive instants from them).
DATES_OUT_OF_RANGE = "dates.out_of_range"
# Every contract has a customer among its parties.
CONTRACT_CUSTOMER_REQUIRED = "contract.customer_required"
# Dates are read in an IANA time zone.
TIME_ZONE_UNKNOWN = "contract.time_zone_unknown"
# Only a draft is activated (phase 6); an active contract is not activated again.
ACTIVATE_ONLY_FROM_DRAFT = "contract.activate_only_from_draft"

# -- the request (phase 1, docs/design/contracting.md "Request states") ----------------------------
# Each command moves the request from the states its rule names; anything else is refused (409).
REQUEST_SUBMIT_ONLY_FROM_DRAFT = "request.submit_only_from_draft"
REQUEST_WORK_ONLY_FROM_NEW_OR_REVIEW = "request.work_only_from_new_or_review"
REQUEST_REVIEW_ONLY_FROM_WORK_IN_PROGRESS = "request.review_only_from_work_in_progress"
# Transitions the state table does not hold (the ones later issues drive are in it already).
REQUEST_TRANSITION_NOT_ALLOWED = "request.transition_not_allowed"
# Closed complete and cancelled are terminal: nothing changes a request there.
REQUEST_STATE_TERMINAL = "request.state_terminal"
# Enrichment only until the request is handed for review.
REQUEST_ENRICH_ONLY_BEFORE_REVIEW = "request.enrich_only_before_review"
# A request from a quote keeps the quote's commercial terms: a change is a revised quote (order sync).
REQUEST_QUOTE_TERMS_FIXED = "request.quote_terms_fixed"
# Submission needs at least a title, an account and a currency (422 names the missing fields).
REQUEST_SUBMISSION_INCOMPLETE = "request.submission_incomplete"
REQUIRED_FOR_SUBMISSION = ("title", "account", "currency")
# A self-service line has a quantity above 0 and a discount of 0 to 100 percent.
REQUEST_LINE_QUANTITY = "request.line_quantity_not_positive"
REQUEST_LINE_DISCOUNT = "request.line_discount_out_of_range"
REQUEST_LINE_AMOUNT_TOO_LARGE = "request.line_amount_too_large"
# Cancelling says why.
REQUEST_CANCEL_REASON_REQUIRED = "request.cancel_reason_required"
# Work starts by the assignee (or whoever takes it from a queue) or a contract manager.
REQUEST_WORK_BY_ASSIGNEE = "request.work_by_assignee_or_contract_manager"
# An assignment names a queue, or a person and the role they work it in; not both.
REQUEST_ASSIGNMENT_INVALID = "request.assignment_invalid"
# Nothing is a request that never was one (a contract drafted without a request).
REQUEST_NOT_A_REQUEST = "request.not_a_request"

# -- classification: standard < non_standard < high_risk, from the deal fields ---------------------
CLASSIFICATION_RISK_TIER_HIGH = "classification.risk_tier_high"  # -> high_risk
CLASSIFICATION_DATA_RESIDENCY = "classification.data_residency_outside_allowed"  # -> non_standard
CLASSIFICATION_DEAL_SIZE = "classification.deal_size_above_threshold"  # -> non_standard
CLASSIFICATION_DISCOUNT = "classification.discount_above_maximum"  # -> non_standard
CLASSIFICATION_DEAL_FIELDS_MISSING = "classification.deal_fields_missing"  # -> non_standard
# A person may raise the class the rules gave, never lower it: the refusal names the rule that holds.
CLASSIFICATION_MANUAL = "classification.manual"

# Where data may live under the standard terms (the DPA's regions).
ALLOWED_DATA_RESIDENCY = frozenset({"EU", "EEA", "CH", "UK"})
# Deals above this net total (in the request's currency; no conversion yet) go to legal review.
NON_STANDARD_DEAL_SIZE = Decimal("250000")
# The largest line discount the standard terms allow, in percent.
STANDARD_MAX_DISCOUNT_PERCENT = Decimal("20")
# The queue each class is routed to on creation and whenever the rules reclassify it.
QUEUE_OF_CLASS = {"standard": "contracts-standard", "non_standard": "legal-review", "high_risk": "legal-review"}

# -- drafting and negotiation (phases 2-3, docs/contracting/drafting.md) ---------------------------------------
# A contract is drafted from a template once, from a request that is new or in work.
DRAFTING_ONLY_FROM_NEW_OR_WORK = "drafting.only_from_new_or_work_in_progress"
DRAFTING_ALREADY_DRAFTED = "drafting.already_drafted"
# The dates follow from the request: a start date (desired, or given) and a term in months.
DRAFTING_START_DATE_MISSING = "drafting.start_date_missing"
DRAFTING_TERM_MISSING = "drafting.term_months_missing"
# Versions are added to a drafted contract while it is negotiated (in work or back in review).
NEGOTIATION_NOT_DRAFTED = "negotiation.not_drafted"
NEGOTIATION_ONLY_IN_NEGOTIATION = "negotiation.only_while_negotiating"
# A negotiated-terms record names at least one term.
NEGOTIATION_TERMS_EMPTY = "negotiation.terms_empty"
# An open deviation (non-standard clause, term changed against us) makes the contract at least non_standard.
CLASSIFICATION_DEVIATION_OPEN = "classification.deviation_open"  # -> non_standard
# -- comment threads (phase 3, domain/comments.py) -------------------------------------------------
# A thread is about a contract that exists (requested or drafted) and a version of it.
COMMENT_CONTRACT_UNKNOWN = "comment.contract_unknown"
COMMENT_VERSION_UNKNOWN = "comment.version_unknown"
# A comment says something (not only blanks).
COMMENT_TEXT_REQUIRED = "comment.text_required"
# A reply answers a comment of the same thread.
COMMENT_REPLY_TO_UNKNOWN = "comment.reply_to_not_in_thread"
# A resolved thread takes no replies: reopen it first.
COMMENT_REPLY_ONLY_WHEN_OPEN = "comment.reply_only_when_open"
# Resolved only when open, reopened only when resolved.
COMMENT_RESOLVE_ONLY_WHEN_OPEN = "comment.resolve_only_when_open"
COMMENT_REOPEN_ONLY_WHEN_RESOLVED = "comment.reopen_only_when_resolved"
# A comment id names one comment: the same id again with other content is refused.
COMMENT_ID_TAKEN = "comment.id_taken"

# -- approvals (phase 4, docs/contracting/approvals.md) --------------------------------------------
# A matrix rule's condition compiles and names only the approval fields; ids unique; an SLA is an
# ISO 8601 duration (days, hours, minutes: no months or years) longer than zero.
APPROVAL_CONDITION_INVALID = "approval.condition_invalid"
APPROVAL_RULE_ID_DUPLICATE = "approval.rule_id_duplicate"
APPROVAL_SLA_INVALID = "approval.sla_invalid"
# A matrix names approvers of the roles phase 4's RACI lets approve (below), or named users.
APPROVAL_APPROVER_ROLE_NOT_ALLOWED = "approval.approver_role_not_allowed"
# Only legal counsel (accountable), finance and sales leadership approve; sales and sales ops never (403).
APPROVAL_ROLE_NOT_ALLOWED = "approval.role_not_allowed"
APPROVING_ROLES = frozenset({"legal_counsel", "finance", "sales_leadership"})
# Nobody approves a request they made or submitted for approval (403).
APPROVAL_OWN_REQUEST = "approval.own_request"
# Only an approver of the step's current level decides it (403).
APPROVAL_NOT_AN_APPROVER = "approval.not_an_approver"
# A step is decided while it is open (409).
APPROVAL_STEP_CLOSED = "approval.step_closed"
# A rejection says why (422).
APPROVAL_REJECT_COMMENT_REQUIRED = "approval.reject_comment_required"
# A request is submitted for approval from work in progress or review, once drafted (409).
APPROVAL_SUBMIT_ONLY_IN_NEGOTIATION = "approval.submit_only_from_work_in_progress_or_review"
APPROVAL_NOT_DRAFTED = "approval.not_drafted"
# While a version is approved or signed its terms change only by a new version (which invalidates).
APPROVAL_TERMS_FIXED = "approval.terms_fixed_while_approving_or_signing"
# The share of a step's SLA after which it is at risk (ApprovalAtRisk), unless settings say otherwise.
APPROVAL_AT_RISK_FRACTION = 0.75

# Signature and execution (phase 5): docs/contracting/signature.md
SIGNATURE_VERSION_NOT_APPROVED = "signature.version_not_approved"  # an envelope for the approved version only
SIGNATURE_NOT_AWAITING_SIGNATURE = "signature.not_awaiting_signature"
SIGNATURE_ENVELOPE_OPEN = "signature.envelope_open"  # one envelope at a time
# No new version while an envelope is out: cancel it first (409).
SIGNATURE_VERSION_WHILE_OUT = "signature.version_while_envelope_out"
SIGNATURE_NO_OPEN_ENVELOPE = "signature.no_open_envelope"
SIGNATURE_ENVELOPE_UNKNOWN = "signature.envelope_unknown"
SIGNATURE_SIGNER_EMAIL = "signature.signer_email_invalid"
SIGNATURE_SIGNER_DUPLICATE = "signature.signer_duplicate"
SIGNATURE_SIGNERS_REQUIRED = "signature.signers_required"
SIGNATURE_DEADLINE_PAST = "signature.deadline_not_in_future"
SIGNATURE_SIGNER_UNKNOWN = "signature.signer_unknown"
SIGNATURE_SIGNER_NOT_INVITED = "signature.signer_not_invited"  # not their turn in the routing order
SIGNATURE_SIGNER_DONE = "signature.signer_already_acted"
SIGNATURE_NOT_COMPLETE = "signature.not_all_signed"
SIGNATURE_CONSENT_REQUIRED = "signature.consent_required"
SIGNATURE_TYPED_NAME_REQUIRED = "signature.typed_name_required"
SIGNATURE_DECLINE_REASON_REQUIRED = "signature.decline_reason_required"
SIGNATURE_CANCEL_REASON_REQUIRED = "signature.cancel_reason_required"
SIGNATURE_NOT_EXECUTED = "signature.not_executed"

# -- activation (phase 6, domain/contract/readiness.py and contract.py) ------------------------------
# Order sync can take the contract only when each line's SKU is mapped in the catalogue (not retired)
# and the fields it needs are there: each missing item is listed (ActivationBlocked).
ACTIVATION_SKU_NOT_IN_CATALOGUE = "activation.sku_not_in_catalogue"
ACTIVATION_SKU_RETIRED = "activation.sku_retired"
ACTIVATION_ACCOUNT_MISSING = "activation.account_missing"
ACTIVATION_CURRENCY_MISSING = "activation.currency_missing"
ACTIVATION_LINE_DATES = "activation.line_dates_outside_contract"
# A requested contract is activated only once executed (phase 5), and by hand only once its start date came.
ACTIVATION_NOT_EXECUTED = "activation.not_executed"
ACTIVATION_BEFORE_START = "activation.before_start_date"
ACTIVATION_NOT_READY = "activation.not_ready"

# -- renewal terms and periods (phase 7, domain/renewal_terms.py and contract/renewal.py) ------------
# docs/contracting/renewals.md. Durations are ISO 8601 in years, months, weeks or days.
RENEWAL_DURATION_INVALID = "renewal_terms.duration_invalid"
# The initial term, when given, ends on the contract's end date (422).
RENEWAL_INITIAL_TERM_MISMATCH = "renewal_terms.initial_term_mismatch"
# Once out of Draft (activated), renewal fields lock: changing them is an amendment (409).
RENEWAL_LOCKED_AFTER_ACTIVATION = "renewal_terms.locked_after_activation"
# Terms are set once the contract has dates: drafted, or a request with a desired start and a term (409).
RENEWAL_DATES_UNKNOWN = "renewal_terms.contract_dates_unknown"
RENEWAL_OWNERS_INVALID = "renewal_terms.owners_invalid"
RENEWAL_OFFSETS_INVALID = "renewal_terms.reminder_offsets_invalid"
RENEWAL_TERMS_MISSING = "renewal_terms.not_set"  # a notice or an acknowledgement needs renewal terms (409)
# A termination notice: for an active contract, on or before the current period's notice deadline
# (local today in the contract's zone), once per contract (409).
TERMINATION_NOT_ACTIVE = "termination.contract_not_active"
TERMINATION_AFTER_NOTICE_DEADLINE = "termination.after_notice_deadline"
TERMINATION_ALREADY_GIVEN = "termination.already_given"
# Reminders of a period are acknowledged by an owner (or a contract manager), for a period that began (422).
REMINDER_PERIOD_UNKNOWN = "renewal_reminders.period_unknown"
REMINDER_NOT_OWNER = "renewal_reminders.not_an_owner"
# The owners of terms derived from the executed terms when nobody named any: the accountable role.
RENEWAL_DEFAULT_OWNER = "role:contract_manager"
# -- amendments and renewal successors (phase 7, docs/contracting/amendments_and_renewals.md) -------
# Only an executed or active contract is amended or renewed (a request still in the making is changed instead).
LINK_PARENT_NOT_EXECUTED = "link.parent_not_executed"
# An amendment takes effect within its parent's dates.
LINK_EFFECTIVE_DATE_OUTSIDE_TERM = "link.effective_date_outside_term"
# Amendments amend the contract itself, not another amendment (the as-of terms apply them in one order).
LINK_AMEND_THE_PARENT = "link.amend_the_parent"

# -- obligations (phase 7, domain/obligation.py, docs/contracting/obligations.md) --------------------
# An obligation falls due once (due_date) or on a recurrence (an RRULE from a start date): exactly one.
OBLIGATION_DUE_DATE_OR_RECURRENCE = "obligation.due_date_or_recurrence"
# The RRULE is one RFC 5545 RRULE value, without DTSTART (the recurrence's start is it), daily or coarser.
OBLIGATION_RRULE_INVALID = "obligation.rrule_invalid"
# ... and it yields at least one occurrence.
OBLIGATION_RRULE_EMPTY = "obligation.rrule_empty"
# An obligation has an owner (a user id, an e-mail address or role:<name>) and a description.
OBLIGATION_OWNERS_REQUIRED = "obligation.owners_required"
OBLIGATION_DESCRIPTION_REQUIRED = "obligation.description_required"
# A completion names one of the obligation's due dates.
OBLIGATION_NOT_AN_OCCURRENCE = "obligation.not_an_occurrence"
# A canceled obligation takes no completions.
OBLIGATION_CANCELED = "obligation.canceled"
# Completed by an owner (their subject, e-mail or role:<their role> among the owners) or a contract manager.
OBLIGATION_NOT_OWNER = "obligation.not_owner"
# Evidence is a PDF, Word, Excel, PNG, JPEG, text or CSV file, not empty, at most EVIDENCE_MAX_BYTES.
OBLIGATION_EVIDENCE_MEDIA_TYPE = "obligation.evidence_media_type"
OBLIGATION_EVIDENCE_TOO_LARGE = "obligation.evidence_too_large"
EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
EVIDENCE_MEDIA_TYPES = frozenset({
    "application/pdf", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "image/png", "image/jpeg", "text/plain",
    "text/csv",
})
