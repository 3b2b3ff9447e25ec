"""Contracting service: `uvicorn services.clm.main:app` or `python -m services.clm`."""

from pathlib import Path

from shared.backbone.app import ServiceDefinition, Subscription, create_app
from shared.events import topics
from shared.events.catalogue import CatalogueEntryPublished, CatalogueEntryRetired
from shared.events.contract_starts import ContractStartReached
from shared.events.quotes import QuoteApproved
from services.catalogue import by_name
from services.clm.adapters.views import SqlViews
from services.clm.api import comments, contract_requests, contracts, library, versions
from services.clm.application.activation import copy_catalogue_entry, start_contract
from services.clm.application.consumed_events import open_request_from_quote
from services.clm.settings import ClmSettings

definition = ServiceDefinition(
    spec=by_name("clm"),
    routers=[contracts.router, versions.router, contract_requests.router, library.router, comments.router,
             comments.threads_router],
    versions_dir=Path(__file__).parent / "adapters" / "migrations",
    produces=[topics.CLM_CONTRACTS, topics.CLM_LIBRARY, topics.CLM_COMMENTS],
    views=SqlViews,
    subscriptions=[
        Subscription({QuoteApproved: open_request_from_quote}),
        Subscription({ContractStartReached: start_contract, CatalogueEntryPublished: copy_catalogue_entry,
                      CatalogueEntryRetired: copy_catalogue_entry}, name="clm-activation"),
    ],
    settings_class=ClmSettings,
)

app = create_app(definition)
