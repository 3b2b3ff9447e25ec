"""Reconciliation of what was signed (ContractActivated v2) with what is active in order sync (the
service contract of the same id): `comparison` lists the differences, `Reconciliation` (one stream
per contract, type `reconciliation`) announces each new difference once and each return to
agreement once."""

from services.order_sync.domain.reconciliation.comparison import compare, match_lines
from services.order_sync.domain.reconciliation.reconciliation import (
    MISMATCHED, PENDING, RECONCILED, Reconciliation, ReconciliationState, stream_id,
)

__all__ = ["MISMATCHED", "PENDING", "RECONCILED", "Reconciliation", "ReconciliationState", "compare", "match_lines", "stream_id"]
