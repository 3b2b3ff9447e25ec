"""Order sync service, the service contract life cycle and quotes: `python -m services.order_sync`."""

from pathlib import Path

from shared.backbone.app import ServiceDefinition, Subscription, create_app
from shared.events import topics
from shared.events.activation import ContractActivatedV2
from shared.events.catalogue import CatalogueEntryPublished
from shared.events.lifecycle import QuoteValidityEnded, ServiceContractDateReached
from shared.events.renewal_terms import ContractRenewed
from services.catalogue import by_name
from services.order_sync.adapters.indexes import SqlIndexes
from services.order_sync.api import (
    catalogue, entitlement_checks, install_base, orders, quotes, reconciliation, service_contracts,
)
from services.order_sync.application import reconciliation as reconciling
from services.order_sync.application.consumed_events import reaching_dates
from services.order_sync.application.orders import retry_fallout_of, taking_activations
from services.order_sync.application.quotes import end_validity
from services.order_sync.application.renewals import CONSUMER_NAME as RENEWALS, following_renewals
from services.order_sync.settings import OrderSyncSettings

definition = ServiceDefinition(
    spec=by_name("order_sync"),
    routers=[service_contracts.router, install_base.router, entitlement_checks.router, quotes.router, catalogue.router,
             orders.router, reconciliation.router],
    versions_dir=Path(__file__).parent / "adapters" / "migrations",
    views=SqlIndexes,
    produces=[topics.ORDER_SYNC_SERVICE_CONTRACTS, topics.ORDER_SYNC_INSTALL_BASE, topics.ORDER_SYNC_QUOTES,
              topics.ORDER_SYNC_CATALOGUE, topics.ORDER_SYNC_ORDERS, topics.ORDER_SYNC_RECONCILIATION],
    subscriptions=[
        # ContractActivated v2 instead of v1, under the same (default) name: its inbox and offsets go on
        # (docs/contracting/activation.md, "Moving from v1 to v2").
        Subscription({ContractActivatedV2: taking_activations}),
        # A consumer's name keys its group offsets and inbox rows: renaming one replays its topics.
        Subscription({ServiceContractDateReached: reaching_dates}, name="order_sync-time"),
        Subscription({QuoteValidityEnded: end_validity}, name="order_sync-quote-time"),
        # Its own consumer, apart from the order consumer: signed terms (v2), the service contracts'
        # and orders' events, each followed by a check (application/reconciliation.py).
        Subscription(reconciling.HANDLERS, name=reconciling.CONSUMER_NAME),
        # Its own catalogue's events: lines in fallout on a SKU are retried when it is published.
        Subscription({CatalogueEntryPublished: retry_fallout_of}, name="order_sync-catalogue"),
        # clm's tacit renewals: the service contract runs on with its legal contract (application/renewals.py).
        Subscription({ContractRenewed: following_renewals}, name=RENEWALS),
    ],
    background=[reconciling.run_reconciliation],
    settings_class=OrderSyncSettings,
)

app = create_app(definition)
