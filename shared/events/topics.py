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

ALL = (CLM_CONTRACTS, ASSET_COVERAGE, ORDER_SYNC_SERVICE_CONTRACTS, ORDER_SYNC_INSTALL_BASE, LIFECYCLE_SCHEDULES,
       LIFECYCLE_SERVICE_CONTRACT_DATES)


def dead_letter_topic(consumer_group: str) -> str:
    return f"{consumer_group}.dead_letter.v1"
