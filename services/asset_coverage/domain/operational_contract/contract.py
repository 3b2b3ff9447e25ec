"""A contract as operations sees it (docs/design/operations.md): terms and state (terms.py), the
assets it covers (links.py). One aggregate, one stream per contract id; each concept is a module
whose class is a base of the next, so every handler is in one table."""

from services.asset_coverage.domain.operational_contract.links import Link, Links
from services.asset_coverage.domain.operational_contract.terms import OperationalState

__all__ = ["Link", "OperationalContract", "OperationalState"]


class OperationalContract(Links):
    # Streams written before vendor contracts existed are labelled "coverage"; they are read by id alike.
    stream_type = "operational_contract"
