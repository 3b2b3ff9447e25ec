"""Who may change what in operations (docs/design/operations.md, "Who may change what"): the roles
of the inventory's routes, and the refusals of ownership answered 403 like a missing role (the
domain says only that a rule refused; that the caller may not is this layer's word)."""

from contextlib import contextmanager

from fastapi import HTTPException

from shared.backbone.auth import Principal, Role, require_roles
from shared.backbone.errors import DomainError
from services.asset_coverage.domain import rules

# IT/OT registers and revises what it manages; the contracting roles own legal terms, not these.
may_manage = require_roles(Role.ASSET_MANAGER)
# Operational terms: the asset manager's; finance sets the costs.
may_set_operational = require_roles(Role.ASSET_MANAGER, Role.FINANCE)

OWNERSHIP_RULES = frozenset({rules.LEGAL_TERMS_OWNED_BY_CONTRACTING, rules.FINANCE_SETS_COSTS_ONLY})


def costs_only(principal: Principal) -> bool:
    """Finance without the asset manager's role changes costs only."""
    return Role.ASSET_MANAGER not in principal.roles


@contextmanager
def owned():
    """Answers an ownership refusal with 403 naming its rule."""
    try:
        yield
    except DomainError as refusal:
        if refusal.rule not in OWNERSHIP_RULES:
            raise
        raise HTTPException(403, detail={"rule": refusal.rule, "message": refusal.message}) from refusal
