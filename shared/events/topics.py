"""Kafka topics of the platform. A topic name carries a version: a new one only when keys or
partitioning change incompatibly; payload versions are per event (CloudEvent `schemaversion`)."""

CLM_CONTRACTS = "clm.contracts.v1"
ASSET_COVERAGE = "asset_coverage.coverage.v1"
ORDER_SYNC_SERVICE_CONTRACTS = "order_sync.service_contracts.v1"
ORDER_SYNC_INSTALL_BASE = "order_sync.install_base.v1"
LIFECYCLE_SCHEDULES = "lifecycle_scheduler.schedules.v1"
# Its own topic: the same contract id keys the legal contract's schedule stream, and a second
# stream under one key on one topic would break the contiguous ce_streamversion per key.
LIFECYCLE_SERVICE_CONTRACT_DATES = "lifecycle_scheduler.service_contract_dates.v1"
ORDER_SYNC_QUOTES = "order_sync.quotes.v1"
LIFECYCLE_QUOTE_DATES = "lifecycle_scheduler.quote_dates.v1"
CLM_LIBRARY = "clm.library.v1"  # templates and clauses, keyed by template_id / clause_id
CLM_COMMENTS = "clm.comments.v1"  # comment threads, keyed by thread_id
# Operations (docs/design/operations.md): assets keyed by asset_id; renewal tasks by task_id;
# change windows by window_id. Operational contracts and their links stay on ASSET_COVERAGE.
ASSET_COVERAGE_ASSETS = "asset_coverage.assets.v1"
ASSET_COVERAGE_RENEWAL_TASKS = "asset_coverage.renewal_tasks.v1"
ASSET_COVERAGE_CHANGE_WINDOWS = "asset_coverage.change_windows.v1"
# The scheduler's dates of operations, each on its own topic (one stream type per key):
# a vendor contract's start and end (contract_id), renewal deadlines (task_id), link dates (link_id).
LIFECYCLE_OPERATIONAL_CONTRACT_DATES = "lifecycle_scheduler.operational_contract_dates.v1"
LIFECYCLE_RENEWAL_DEADLINES = "lifecycle_scheduler.renewal_deadlines.v1"
LIFECYCLE_LINK_DATES = "lifecycle_scheduler.link_dates.v1"
# Phases 4-6 (docs/design/approvals_and_signature.md): approval SLAs keyed by step_id, signature
# reminders and deadlines by envelope_id, executed contracts' start dates by contract_id; the
# catalogue by sku, orders by order_id, reconciliation by contract_id.
LIFECYCLE_APPROVAL_DEADLINES = "lifecycle_scheduler.approval_deadlines.v1"
LIFECYCLE_SIGNATURE_DATES = "lifecycle_scheduler.signature_dates.v1"
LIFECYCLE_CONTRACT_STARTS = "lifecycle_scheduler.contract_starts.v1"
ORDER_SYNC_CATALOGUE = "order_sync.catalogue.v1"
ORDER_SYNC_ORDERS = "order_sync.orders.v1"
ORDER_SYNC_RECONCILIATION = "order_sync.reconciliation.v1"
# Phase 7 (docs/design/obligations_and_renewals.md): obligations keyed by obligation_id; the
# scheduler's period ends and reminders by contract_id, obligation due dates by obligation_id.
CLM_OBLIGATIONS = "clm.obligations.v1"
LIFECYCLE_CONTRACT_PERIODS = "lifecycle_scheduler.contract_periods.v1"
LIFECYCLE_OBLIGATION_DATES = "lifecycle_scheduler.obligation_dates.v1"

ALL = (CLM_CONTRACTS, ASSET_COVERAGE, ORDER_SYNC_SERVICE_CONTRACTS, ORDER_SYNC_INSTALL_BASE, LIFECYCLE_SCHEDULES,
       LIFECYCLE_SERVICE_CONTRACT_DATES, ORDER_SYNC_QUOTES, LIFECYCLE_QUOTE_DATES, CLM_LIBRARY, CLM_COMMENTS, ASSET_COVERAGE_ASSETS, ASSET_COVERAGE_RENEWAL_TASKS,
       ASSET_COVERAGE_CHANGE_WINDOWS, LIFECYCLE_OPERATIONAL_CONTRACT_DATES, LIFECYCLE_RENEWAL_DEADLINES,
       LIFECYCLE_LINK_DATES, LIFECYCLE_APPROVAL_DEADLINES, LIFECYCLE_SIGNATURE_DATES, LIFECYCLE_CONTRACT_STARTS,
       ORDER_SYNC_CATALOGUE, ORDER_SYNC_ORDERS, ORDER_SYNC_RECONCILIATION, CLM_OBLIGATIONS,
       LIFECYCLE_CONTRACT_PERIODS, LIFECYCLE_OBLIGATION_DATES)


def dead_letter_topic(consumer_group: str) -> str:
    return f"{consumer_group}.dead_letter.v1"
