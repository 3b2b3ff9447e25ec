"""Order sync service: `python -m services.order_sync`."""

from pathlib import Path

from shared.backbone.app import ServiceDefinition, Subscription, create_app
from shared.events import topics
from services.catalogue import by_name
from services.order_sync.api import service_contracts
from services.order_sync.application.service_contracts import on_contract_event

definition = ServiceDefinition(
    spec=by_name("order_sync"),
    routers=[service_contracts.router],
    versions_dir=Path(__file__).parent / "adapters" / "migrations",
    produces=[topics.ORDER_SYNC_SERVICE_CONTRACTS],
    subscriptions=[Subscription([topics.CLM_CONTRACTS], lambda ctx: on_contract_event)],
)

app = create_app(definition)
