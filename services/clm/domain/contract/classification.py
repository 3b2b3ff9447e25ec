"""A request's class from its deal fields, by the named rules of domain/rules.py. Pure: the
aggregate (intake.py) decides when to classify and records what changed."""

from shared.events.contracts import Classification, ClassificationReason, RequestedDeal, RequestOrigin
from services.clm.domain import rules

RANK: dict[Classification, int] = {"standard": 0, "non_standard": 1, "high_risk": 2}
# The fields a person enters; deal_size follows from the lines, so it is missing until there are some.
DEAL_FIELDS = ("region", "industry", "risk_tier", "data_residency", "deal_size")


def higher(a: Classification, b: Classification) -> Classification:
    return a if RANK[a] >= RANK[b] else b


def classify(deal: RequestedDeal, origin: RequestOrigin) -> tuple[Classification, list[ClassificationReason]]:
    """The class the rules give and every rule that applied (the highest first); no reasons for standard."""
    high: list[ClassificationReason] = []
    non_standard: list[ClassificationReason] = []
    if deal.risk_tier == "high":
        high.append(ClassificationReason(rule=rules.CLASSIFICATION_RISK_TIER_HIGH, message="the risk tier is high"))
    if deal.data_residency is not None and deal.data_residency not in rules.ALLOWED_DATA_RESIDENCY:
        non_standard.append(ClassificationReason(
            rule=rules.CLASSIFICATION_DATA_RESIDENCY,
            message=f"data residency {deal.data_residency} is outside {sorted(rules.ALLOWED_DATA_RESIDENCY)}"))
    if deal.deal_size is not None and deal.deal_size > rules.NON_STANDARD_DEAL_SIZE:
        non_standard.append(ClassificationReason(
            rule=rules.CLASSIFICATION_DEAL_SIZE,
            message=f"the deal size {deal.deal_size} is above {rules.NON_STANDARD_DEAL_SIZE}"))
    if deal.max_discount_percent is not None and deal.max_discount_percent > rules.STANDARD_MAX_DISCOUNT_PERCENT:
        non_standard.append(ClassificationReason(
            rule=rules.CLASSIFICATION_DISCOUNT,
            message=f"a discount of {deal.max_discount_percent}% is above the standard {rules.STANDARD_MAX_DISCOUNT_PERCENT}%"))
    missing = [name for name in DEAL_FIELDS if getattr(deal, name) is None]
    if origin == "self_service" and missing:
        non_standard.append(ClassificationReason(
            rule=rules.CLASSIFICATION_DEAL_FIELDS_MISSING, message=f"deal fields missing: {', '.join(missing)}"))
    if high:
        return "high_risk", high + non_standard
    if non_standard:
        return "non_standard", non_standard
    return "standard", []
