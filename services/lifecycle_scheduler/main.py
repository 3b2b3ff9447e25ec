"""Lifecycle scheduler service: `python -m services.lifecycle_scheduler`."""

from pathlib import Path

from shared.backbone.app import ServiceDefinition, Subscription, create_app
from shared.backbone.settings import ServiceSettings
from shared.events import topics
from services.catalogue import by_name
from services.lifecycle_scheduler.api import schedules, service_timers
from services.lifecycle_scheduler.application.scheduling import on_event, run_timers


class SchedulerSettings(ServiceSettings):
    scheduler_tick_seconds: float = 1.0


definition = ServiceDefinition(
    spec=by_name("lifecycle_scheduler"),
    routers=[schedules.router, service_timers.router],
    versions_dir=Path(__file__).parent / "adapters" / "migrations",
    produces=[topics.LIFECYCLE_SCHEDULES, topics.LIFECYCLE_SERVICE_CONTRACT_DATES],
    subscriptions=[Subscription([topics.CLM_CONTRACTS, topics.ORDER_SYNC_SERVICE_CONTRACTS], lambda ctx: on_event)],
    background=[run_timers],
    settings_class=SchedulerSettings,
)

app = create_app(definition)
