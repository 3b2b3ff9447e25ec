"""Contracting service: `uvicorn services.clm.main:app` or `python -m services.clm`."""

from pathlib import Path

from shared.backbone.app import ServiceDefinition, create_app
from shared.events import topics
from services.catalogue import by_name
from services.clm.api import contracts, library

definition = ServiceDefinition(
    spec=by_name("clm"),
    routers=[contracts.router, library.router],
    versions_dir=Path(__file__).parent / "adapters" / "migrations",
    produces=[topics.CLM_CONTRACTS, topics.CLM_LIBRARY],
)

app = create_app(definition)
