"""Schemathesis against every service's OpenAPI, on real PostgreSQL and Kafka: each operation gets
generated requests, valid and invalid, with a token holding every role, and every answer must pass
all of schemathesis's checks (no 5xx, only documented statuses and content types, bodies and headers
matching their schema, invalid input refused, auth enforced).

Each app is reached in-process through schemathesis's ASGI transport, which runs its lifespan
(migrations, relay, consumers) on its own event loop and ends it after each test. The schemas are
read from the apps when the module is imported (the document needs no database); the apps get their
settings once the stack is up (`configured`).

Bounded to stay within a few minutes on a small machine: 25 examples per operation at most, no
deadline, derandomized (the same cases every run, so a failure reproduces). Everything is up, so a
503 fails here like any 5xx (not_a_server_error)."""

import importlib
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance
from schemathesis.config import SchemathesisConfig

from shared.backbone.app import create_app
from shared.backbone.auth import ALL_ROLES
from tests.conftest import token

pytestmark = [
    pytest.mark.integration,
    # Raised by schemathesis's own strategies (it draws from `random`), not by anything here.
    pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies"),
]

SERVICES = ["clm", "asset_coverage", "order_sync", "lifecycle_scheduler", "projection"]
DEFINITIONS = {name: importlib.import_module(f"services.{name}.main").definition for name in SERVICES}
APPS = {name: create_app(definition) for name, definition in DEFINITIONS.items()}
# The token as the schema's bearer scheme, so schemathesis also sends requests without it (ignored_auth).
CONFIG = SchemathesisConfig.from_dict({"auth": {"openapi": {"HTTPBearer": {"bearer": token(*sorted(ALL_ROLES))}}}})


def _schema(name: str):
    schema = schemathesis.openapi.from_dict(APPS[name].openapi(), config=CONFIG)
    schema.app, schema.location = APPS[name], "/openapi.json"  # what from_asgi sets: calls go to the app
    return schema


@pytest.fixture(scope="module", autouse=True)
def configured(service_env) -> None:
    """Each app's settings, read from the environment the stack gives it, before its lifespan starts."""
    for name, app in APPS.items():
        env = service_env(name)
        old = {key: os.environ.get(key) for key in env}
        os.environ.update(env)
        try:
            app.state.settings = DEFINITIONS[name].settings_class()
        finally:
            for key, value in old.items():
                if value is None:
                    os.environ.pop(key)
                else:
                    os.environ[key] = value


# What refuses a request for its form, not its values (README, "Errors and status codes").
SCHEMA_RULES = {"request.invalid", "request.if_match_invalid", "request.unsupported_media_type"}


def schema_valid_data_is_not_refused_for_its_form(ctx, response, case):
    """positive_data_acceptance, but a schema-valid request may still break a business rule: 422 with
    a rule of the domain (dates.end_before_start, contract.customer_required, sold_product.not_found
    for an id in the body, ...) is documented and right; the schema cannot say every rule. A 422 for
    the form of the request (`SCHEMA_RULES`) means the schema promised more than the API takes, and
    still fails."""
    if response.status_code == 422 and response.json().get("rule") not in SCHEMA_RULES:
        return None
    return positive_data_acceptance(ctx, response, case)


@schemathesis.pytest.parametrize(**{name: _schema(name) for name in SERVICES})
@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_every_operation_answers_as_documented(case):
    case.call_and_validate(excluded_checks=[positive_data_acceptance],
                           additional_checks=[schema_valid_data_is_not_refused_for_its_form])
