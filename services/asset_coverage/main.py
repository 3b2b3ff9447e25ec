"""Asset coverage service: `python -m services.asset_coverage`."""

from pathlib import Path

from shared.backbone.app import ServiceDefinition, Subscription, create_app
from shared.backbone.event_routing import Prefetching
from shared.events import topics
from shared.events.contract_links import ContractLinked
from shared.events.contracts import ContractActivated
from shared.events.lifecycle import ContractExpired
from shared.events.link_dates import AssetLinkDateReached
from shared.events.operational_dates import OperationalContractEndReached, OperationalContractStartReached
from shared.events.renewal_terms import ContractRenewed
from services.asset_coverage.adapters.views import SqlViews
from services.asset_coverage.api import (
    assets, calendar_feeds, change_windows, imports, links, operational_contracts, proofs, renewal_tasks,
)
from services.asset_coverage.application import calendar_index, registry
from services.asset_coverage.application import renewal_tasks as renewal_task_handlers
from services.asset_coverage.application.import_runner import run_imports
from services.asset_coverage.application.link_dates import reach_link_date
from services.asset_coverage.settings import AssetCoverageSettings
from services.catalogue import by_name

definition = ServiceDefinition(
    spec=by_name("asset_coverage"),
    # assets last: its /assets/{asset_id:path} would otherwise take deeper /assets/... paths
    routers=[links.router, proofs.router, operational_contracts.router, renewal_tasks.router, imports.router,
             change_windows.router, calendar_feeds.router, assets.router],
    versions_dir=Path(__file__).parent / "adapters" / "migrations",
    produces=[topics.ASSET_COVERAGE, topics.ASSET_COVERAGE_ASSETS, topics.ASSET_COVERAGE_RENEWAL_TASKS,
              topics.ASSET_COVERAGE_CHANGE_WINDOWS],
    subscriptions=[
        Subscription({
            # ContractLinked before the successor's ContractActivated: the same stream, so the same partition.
            ContractLinked: registry.note_successor,
            # Each reads its contract: a batch's contracts are read in one query.
            ContractActivated: Prefetching(registry.open_from_contracting, registry.contract_stream),
            ContractRenewed: Prefetching(registry.follow_renewal, registry.contract_stream),
            ContractExpired: Prefetching(registry.expire_from_contracting, registry.contract_stream),
            OperationalContractStartReached: registry.start_reached,
            OperationalContractEndReached: registry.end_reached,
        }),
        # The calendar feeds' index follows operations' own events (application/calendar_index.py).
        Subscription(calendar_index.HANDLERS, name="asset_coverage-calendar"),
        Subscription({AssetLinkDateReached: reach_link_date}, name="asset_coverage-link-dates"),
        # Its own consumer: renewal deadlines and the contract events that supersede tasks.
        Subscription(renewal_task_handlers.HANDLERS, name="asset_coverage-renewal-tasks"),
    ],
    views=SqlViews,
    background=[run_imports],
    settings_class=AssetCoverageSettings,
)

app = create_app(definition)
