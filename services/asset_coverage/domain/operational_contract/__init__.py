from services.asset_coverage.domain.operational_contract.contract import OperationalContract, OperationalState

__all__ = ["OperationalContract", "OperationalState"]
