"""Asset coverage service: `python -m services.asset_coverage`."""

from pathlib import Path

from shared.backbone.app import ServiceDefinition, Subscription, create_app
from shared.events import topics
from shared.events.contracts import ContractActivated
from services.asset_coverage.adapters.views import SqlViews
from services.asset_coverage.application.import_runner import run_imports
from services.asset_coverage.api import coverage, imports
from services.asset_coverage.application.coverage import open_coverage
from services.asset_coverage.settings import AssetCoverageSettings
from services.catalogue import by_name

definition = ServiceDefinition(
    spec=by_name("asset_coverage"),
    routers=[coverage.router, imports.router],
    versions_dir=Path(__file__).parent / "adapters" / "migrations",
    produces=[topics.ASSET_COVERAGE, topics.ASSET_COVERAGE_ASSETS, topics.ASSET_COVERAGE_RENEWAL_TASKS,
              topics.ASSET_COVERAGE_CHANGE_WINDOWS],
    subscriptions=[Subscription({ContractActivated: open_coverage})],
    views=SqlViews,
    background=[run_imports],
    settings_class=AssetCoverageSettings,
)

app = create_app(definition)
