"""Contracting service: `uvicorn services.clm.main:app` or `python -m services.clm`."""

from pathlib import Path

from shared.backbone.app import ServiceDefinition, Subscription, create_app
from shared.events import topics
from shared.events.approval_deadlines import ApprovalStepAtRiskReached, ApprovalStepDeadlineReached
from shared.events.catalogue import CatalogueEntryPublished, CatalogueEntryRetired
from shared.events.contract_periods import ContractPeriodEnded
from shared.events.contract_starts import ContractStartReached
from shared.events.quotes import QuoteApproved
from shared.events.signature_dates import SignatureDeadlineReached, SignatureReminderDue
from services.catalogue import by_name
from services.clm.adapters.views import SqlViews
from services.clm.api import (
    approval_matrices, approvals, comments, contract_links, contract_requests, contracts, library, obligations,
    renewal_terms, signature, signature_webhooks, signing_page, versions,
)
from services.clm.application import approvals as approval_cases, renewals as renewal_cases
from services.clm.application.activation import copy_catalogue_entry, start_contract
from services.clm.application import notice_obligations
from services.clm.application.consumed_events import open_request_from_quote
from services.clm.application.signing_mail import on_deadline_reached, on_reminder_due, run_signing_mail
from services.clm.settings import ClmSettings

definition = ServiceDefinition(
    spec=by_name("clm"),
    routers=[contracts.router, versions.router, contract_requests.router, library.router, comments.router,
             comments.threads_router, approval_matrices.router, approvals.router, approvals.queue_router,
             signature.router, signature_webhooks.router, renewal_terms.router, contract_links.router,
             obligations.router, obligations.obligations_router],
    pages=[signing_page.router],  # /sign/{token}: outside /api/v1, no bearer (the link is the credential)
    versions_dir=Path(__file__).parent / "adapters" / "migrations",
    produces=[topics.CLM_CONTRACTS, topics.CLM_LIBRARY, topics.CLM_COMMENTS, topics.CLM_OBLIGATIONS],
    views=SqlViews,
    subscriptions=[
        Subscription({QuoteApproved: open_request_from_quote}),
        Subscription({ApprovalStepAtRiskReached: approval_cases.step_at_risk,
                      ApprovalStepDeadlineReached: approval_cases.step_deadline_reached},
                     name="clm-approval-deadlines"),
        Subscription({SignatureReminderDue: on_reminder_due, SignatureDeadlineReached: on_deadline_reached},
                     name="clm-signature-dates"),
        Subscription({ContractStartReached: start_contract, CatalogueEntryPublished: copy_catalogue_entry,
                      CatalogueEntryRetired: copy_catalogue_entry}, name="clm-activation"),
        Subscription({ContractPeriodEnded: renewal_cases.period_ended}, name="clm-renewals"),
        # Its own contract events: a tacit contract's period carries a notice obligation (phase 7).
        Subscription(notice_obligations.HANDLERS, name="clm-notice-obligations"),
    ],
    background=[run_signing_mail],
    settings_class=ClmSettings,
)

app = create_app(definition)
