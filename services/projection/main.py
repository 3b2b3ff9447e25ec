"""Projection service, the shared contract read model and the service contract read model:
`python -m services.projection`."""

from pathlib import Path

from shared.backbone.app import ServiceDefinition, Subscription, create_app
from services.catalogue import by_name
from services.projection.api import (
    analytics, calendar_feeds, contract_terms, contracts, dashboard, install_base, renewals, service_contracts,
)
from services.projection.application.blue_green import SWITCH_GUARD
from services.projection.application.projector import CONSUMER_NAME, HANDLERS

definition = ServiceDefinition(
    spec=by_name("projection"),
    routers=[contracts.router, contract_terms.router, service_contracts.router, install_base.router, renewals.router,
             calendar_feeds.router, analytics.router],
    pages=[dashboard.router],  # /dashboard: HTML behind a sign-in form and an HttpOnly cookie (browsers send no bearer)
    versions_dir=Path(__file__).parent / "adapters" / "migrations",
    subscriptions=[Subscription(HANDLERS, name=CONSUMER_NAME, guard=SWITCH_GUARD)],  # blue_green.py's switch waits for it
)

app = create_app(definition)
