"""Every service's OpenAPI document lists what each route can answer, by the rule of
shared/backbone/openapi.py, with the application/problem+json body of every refusal. The apps are
built by create_app and not started: the document needs no database."""

import importlib

import pytest
from shared.backbone.app import create_app

SERVICES = ["clm", "asset_coverage", "order_sync", "lifecycle_scheduler", "projection"]
PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
METHODS = {"get", "put", "post", "patch", "delete"}
# Creates with a client-chosen id: a retry answers 200 with the record (README, "Retries of creates are safe").
CREATES = {
    "clm": {"/api/v1/contracts", "/api/v1/contract-requests", "/api/v1/clauses", "/api/v1/templates",
            "/api/v1/contracts/{contract_id}/comments", "/api/v1/comment-threads/{thread_id}/replies",
            "/api/v1/approval-matrices",
            "/api/v1/contracts/{contract_id}/signature", "/api/v1/contracts/{contract_id}/amendments",
            "/api/v1/contracts/{contract_id}/renewal", "/api/v1/contracts/{contract_id}/obligations"},
    "asset_coverage": {"/api/v1/contracts/{contract_id}/assets", "/api/v1/operational-contracts", "/api/v1/change-windows"},
    "order_sync": {"/api/v1/service-contracts", "/api/v1/sold-products", "/api/v1/install-base-items", "/api/v1/quotes"},
    "lifecycle_scheduler": set(),
    "projection": set(),
}
# PUTs that register a record under the id in their path or revise it: 201 or 200, the same body.
UPSERTS = {("asset_coverage", "/api/v1/assets/{asset_id}")}
NO_DATABASE = {("get", "/api/v1/ops/clock"), ("put", "/api/v1/ops/clock")}
# Calendar clients cannot send a bearer header: the feed's token in the URL is its credential.
NO_BEARER = {("get", "/api/v1/calendar/{token}.ics")}
# Signature providers cannot send our bearer: the HMAC (DocuSign) or the client id (Adobe) is theirs.
WEBHOOKS = {("post", "/api/v1/signature-webhooks/docusign"), ("get", "/api/v1/signature-webhooks/adobe-sign"),
            ("post", "/api/v1/signature-webhooks/adobe-sign")}


def app_of(service: str):
    return create_app(importlib.import_module(f"services.{service}.main").definition)


@pytest.fixture(scope="module", params=SERVICES)
def service(request):
    app = app_of(request.param)
    return request.param, app, app.openapi()


def operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method, path, operation


def test_every_api_operation_documents_its_refusals_with_a_problem_body(service):
    name, _, schema = service
    api = [(m, p, op) for m, p, op in operations(schema) if p.startswith("/api/v1/")]
    assert api
    for method, path, operation in api:
        responses = operation["responses"]
        has_body = "requestBody" in operation
        has_parameters = has_body or bool(operation.get("parameters"))
        expected = {"401", "403"} if (method, path) not in NO_BEARER else set()
        expected = {"401"} if (method, path) in WEBHOOKS else expected
        expected |= {"503"} if (method, path) not in NO_DATABASE else set()
        expected |= {"404"} if "{" in path or ((method, path) in WEBHOOKS and method == "post") else set()
        expected |= {"409"} if method != "get" else set()
        expected |= {"415"} if has_body else set()
        # An upload (multipart) is refused above its configured size limit (clm's UPLOAD_MAX_BYTES).
        expected |= {"413"} if "multipart/form-data" in operation.get("requestBody", {}).get("content", {}) else set()
        expected |= {"422"} if has_parameters else set()
        refusals = {status for status in responses if status >= "4"}
        assert refusals == expected, (method, path)
        for status in refusals:
            assert responses[status]["content"] == PROBLEM, (method, path, status)
        if (method, path) not in NO_BEARER | WEBHOOKS:
            assert responses["401"]["headers"]["WWW-Authenticate"]["required"], (method, path)
        success = {status for status in responses if status < "4"}
        if method == "post" and path in CREATES[name]:
            assert success == {"200", "201"}, (method, path)
            assert responses["200"]["content"] == responses["201"]["content"], (method, path)
        elif method == "put" and (name, path) in UPSERTS:
            assert success == {"200", "201"} and responses["200"]["content"] == responses["201"]["content"], path
        else:
            assert len(success) == 1, (method, path)
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    assert set(schema["components"]["schemas"]["Problem"]["required"]) == {"type", "title", "status", "detail", "rule", "errors"}


def test_every_create_with_a_client_chosen_id_is_listed(service):
    """The CREATES table above is what the services do: each POST whose body names its own id."""
    name, _, schema = service
    creates = set()
    for method, path, operation in operations(schema):
        body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
        ref = body.get("$ref") or next((s["$ref"] for s in body.get("anyOf", []) if "$ref" in s), None)
        if method == "post" and "201" in operation["responses"] and "200" in operation["responses"] and ref:
            creates.add(path)
    assert creates == CREATES[name]


def test_parameters_are_never_null_and_free_text_holds_no_nul(service):
    """What the app takes (rest.declared_input): a parameter left out, not null; text without NUL."""
    name, _, schema = service
    for method, path, operation in operations(schema):
        for parameter in operation.get("parameters", []):
            assert {"type": "null"} not in parameter["schema"].get("anyOf", []), (method, path, parameter["name"])
            if parameter["schema"].get("type") == "string" and not {"format", "enum"} & parameter["schema"].keys():
                assert "pattern" in parameter["schema"], (method, path, parameter["name"])
    components = schema["components"]["schemas"]
    assert "pattern" not in components["FieldError"]["properties"]["field"]  # it names what was sent
    if name == "clm":
        assert components["DraftContract"]["properties"]["title"]["pattern"] == "^[^\\x00]*$"


def test_health_routes_document_their_own_answers(service):
    _, _, schema = service
    assert set(schema["paths"]["/healthz"]["get"]["responses"]) == {"200"}
    readyz = schema["paths"]["/readyz"]["get"]["responses"]
    assert set(readyz) == {"200", "503"}
    assert readyz["503"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Readiness"}
