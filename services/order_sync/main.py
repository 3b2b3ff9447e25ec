"""Order sync service, the service contract life cycle: `python -m services.order_sync`."""

from pathlib import Path

from shared.backbone.app import ServiceDefinition, Subscription, create_app
from shared.events import topics
from services.catalogue import by_name
from services.order_sync.api import entitlement_checks, install_base, service_contracts
from services.order_sync.application.service_contracts import on_contract_event, on_schedule_event

definition = ServiceDefinition(
    spec=by_name("order_sync"),
    routers=[service_contracts.router, install_base.router, entitlement_checks.router],
    versions_dir=Path(__file__).parent / "adapters" / "migrations",
    produces=[topics.ORDER_SYNC_SERVICE_CONTRACTS, topics.ORDER_SYNC_INSTALL_BASE],
    subscriptions=[
        Subscription([topics.CLM_CONTRACTS], lambda ctx: on_contract_event),
        Subscription([topics.LIFECYCLE_SERVICE_CONTRACT_DATES], lambda ctx: on_schedule_event, name="order_sync-time"),
    ],
)

app = create_app(definition)
