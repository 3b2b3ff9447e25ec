"""Lifecycle scheduler service: `python -m services.lifecycle_scheduler`."""

from pathlib import Path

from shared.backbone.app import ServiceDefinition, Subscription, create_app
from shared.backbone.event_routing import Prefetching, merged
from shared.backbone.settings import ServiceSettings
from shared.events import topics
from shared.events.contracts import ContractActivated
from services.catalogue import by_name
from services.lifecycle_scheduler.api import (
    contract_periods as contract_period_api, contracting_timers, notifications, obligation_timers,
    operational_contract_timers, quote_timers, renewal_deadlines as renewal_deadline_api, schedules, service_timers,
)
from services.lifecycle_scheduler.application import (
    approval_deadlines, contract_periods, contract_reminders, contract_starts, link_dates, obligation_dates,
    obligation_reminders, operational_contract_dates, quote_validity, renewal_deadlines, renewal_reminders,
    signature_dates, timetables,
)
from services.lifecycle_scheduler.application.notifying import run_notifications
from services.lifecycle_scheduler.application.scheduling import run_timers, schedule_expiry


class SchedulerSettings(ServiceSettings):
    scheduler_tick_seconds: float = 1.0


definition = ServiceDefinition(
    spec=by_name("lifecycle_scheduler"),
    routers=[schedules.router, service_timers.router, quote_timers.router, operational_contract_timers.router,
             renewal_deadline_api.router, notifications.router, contracting_timers.router,
             contract_period_api.router, obligation_timers.router],
    versions_dir=Path(__file__).parent / "adapters" / "migrations",
    produces=[topics.LIFECYCLE_SCHEDULES, topics.LIFECYCLE_SERVICE_CONTRACT_DATES, topics.LIFECYCLE_QUOTE_DATES,
              topics.LIFECYCLE_OPERATIONAL_CONTRACT_DATES, topics.LIFECYCLE_RENEWAL_DEADLINES,
              topics.LIFECYCLE_LINK_DATES, topics.LIFECYCLE_APPROVAL_DEADLINES, topics.LIFECYCLE_SIGNATURE_DATES,
              topics.LIFECYCLE_CONTRACT_STARTS, topics.LIFECYCLE_CONTRACT_PERIODS, topics.LIFECYCLE_OBLIGATION_DATES],
    subscriptions=[
        # A fetch of activations reads their schedules' streams in one query (event_routing.py).
        Subscription({ContractActivated: Prefetching(schedule_expiry, lambda e: [str(e.event.contract_id)]),
                      **timetables.HANDLERS}),
        # Its own consumer: a quote event it cannot handle holds up no contract's timers.
        Subscription(quote_validity.HANDLERS, name="lifecycle_scheduler-quotes"),
        # Vendor contracts' dates, from asset_coverage's contract stream: their own consumer likewise.
        Subscription(operational_contract_dates.HANDLERS, name="lifecycle_scheduler-operational-contracts"),
        Subscription(link_dates.HANDLERS, name="lifecycle_scheduler-links"),
        # Operations' contract dates -> renewal deadlines; renewal tasks -> the notification channel.
        Subscription(renewal_deadlines.HANDLERS, name="lifecycle_scheduler-renewals"),
        Subscription(renewal_reminders.HANDLERS, name="lifecycle_scheduler-notifications"),
        # Contracting's approvals, signatures and executions (phases 4-6): their own consumer too.
        Subscription(merged(approval_deadlines.HANDLERS, signature_dates.HANDLERS, contract_starts.HANDLERS),
                     name="lifecycle_scheduler-contracting"),
        # Legal contracts' renewal terms and periods (phase 7): their period ends and reminders, and
        # those reminders through the notification channel, each on its own consumer.
        Subscription(contract_periods.HANDLERS, name="lifecycle_scheduler-contract-periods"),
        Subscription(contract_reminders.HANDLERS, name="lifecycle_scheduler-contract-reminders"),
        # Obligations (phase 7): clm's obligation events -> timers; the timers' notices -> the channel.
        Subscription(obligation_dates.HANDLERS, name="lifecycle_scheduler-obligations"),
        Subscription(obligation_reminders.HANDLERS, name="lifecycle_scheduler-obligation-reminders"),
    ],
    background=[run_timers, run_notifications],
    settings_class=SchedulerSettings,
)

app = create_app(definition)
