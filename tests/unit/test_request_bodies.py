"""Request bodies are JSON in every service (shared/backbone/rest.py): a body that is not JSON is
415, one that cannot be decoded 422 like any other invalid request, and an unknown path or method
404 / 405, each with a problem body.

The apps are built by create_app and not started (no lifespan): these answers come before any
route touches PostgreSQL or verifies a token."""

import pytest
from fastapi.testclient import TestClient

from shared.backbone.openapi import Problem
from tests.unit.test_api_documentation import app_of, operations, service  # noqa: F401 (a fixture)


def assert_problem(response, status: int, rule: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = Problem.model_validate(response.json())
    assert body.status == status and body.rule == rule and body.type == f"urn:clm-platform:problem:{rule}"
    return response.json()


def test_a_body_that_is_not_json_is_refused_with_415_on_every_route_that_takes_one(service):
    _, app, schema = service
    client = TestClient(app)
    bodies = [(m, p) for m, p, op in operations(schema) if "requestBody" in op]
    assert bodies
    for method, path in bodies:
        url = path.replace("{", "").replace("}", "")  # any value: the media type is refused first
        for headers in ({}, {"content-type": "text/plain"}, {"content-type": "application/x-www-form-urlencoded"}):
            response = client.request(method, url, content=b'{"a": 1}', headers=headers)
            body = assert_problem(response, 415, "request.unsupported_media_type")
            assert body["title"] == "Request refused", body


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8", "application/merge-patch+json"])
def test_a_json_body_is_taken_whatever_its_json_media_type(content_type):
    client = TestClient(app_of("clm"))
    # past the media type, the route asks for a token
    assert_problem(client.post("/api/v1/contracts", content=b"{}", headers={"content-type": content_type}), 401,
                   "auth.token_missing")


def test_a_route_that_takes_no_body_ignores_what_is_sent():
    client = TestClient(app_of("order_sync"))
    response = client.post("/api/v1/sold-products/5f0c0f4e-7c6b-4a39-9d1c-5d3c1f1e7a10/resumption", content=b"x",
                           headers={"content-type": "text/plain"})
    assert_problem(response, 401, "auth.token_missing")


@pytest.mark.parametrize("body", [b"\xff\xfe{\"title\": 1}", "{\"title\": \"caf\u00e9\"}".encode("latin-1"), b"[" * 100_000])
def test_a_body_that_cannot_be_decoded_is_an_invalid_request(body):
    client = TestClient(app_of("clm"))
    response = client.post("/api/v1/contracts", content=body, headers={"content-type": "application/json"})
    problem = assert_problem(response, 422, "request.invalid")
    assert problem["title"] == "Invalid request" and problem["errors"][0]["rule"] == "json_invalid", problem


def test_a_body_that_is_not_json_at_all_is_an_invalid_request():
    client = TestClient(app_of("order_sync"))
    response = client.post("/api/v1/sold-products", content=b"account=ACME", headers={"content-type": "application/json"})
    assert assert_problem(response, 422, "request.invalid")["errors"][0]["rule"] == "json_invalid"


def test_an_unknown_path_or_method_gets_a_problem_body(service):
    _, app, _ = service
    client = TestClient(app)
    assert_problem(client.get("/api/v1/no-such-thing"), 404, "request.unknown_path")
    response = client.delete("/healthz")
    assert_problem(response, 405, "request.method_not_allowed")
    assert response.headers["allow"] == "GET"


def test_a_405_lists_every_method_of_the_path_even_when_several_routes_serve_it(service):
    _, app, _ = service
    response = TestClient(app).delete("/api/v1/ops/clock")  # GET and PUT are two routes
    assert_problem(response, 405, "request.method_not_allowed")
    assert response.headers["allow"] == "GET, PUT"


def test_an_unknown_query_parameter_is_refused_not_ignored():
    """A misspelt filter (`stat` for `state`) would answer the unfiltered list."""
    response = TestClient(app_of("projection")).get("/api/v1/contracts", params={"stat": "active", "state": "active"})
    problem = assert_problem(response, 422, "request.invalid")
    assert [(e["field"], e["rule"]) for e in problem["errors"]] == [("stat", "extra_forbidden")]


@pytest.mark.parametrize("service, method, path, kwargs, field", [
    ("projection", "get", "/api/v1/contracts", {"params": {"party": "AC\x00ME"}}, "party"),
    ("order_sync", "post", "/api/v1/sold-products", {"json": {"account": "AC\x00ME", "product": "Press"}}, "account"),
    ("clm", "post", "/api/v1/contracts", {"json": {"title": "t", "start_date": "2027-01-01", "end_date": "2027-12-31",
                                                   "parties": [{"role": "customer", "name": "\x00"}]}}, "parties.0.name"),
])
def test_text_with_a_nul_character_is_an_invalid_request(service, method, path, kwargs, field):
    """PostgreSQL cannot store it: it was a 500 from the INSERT."""
    response = TestClient(app_of(service)).request(method, path, **kwargs)
    problem = assert_problem(response, 422, "request.invalid")
    assert [(e["field"], e["rule"]) for e in problem["errors"]] == [(field, "string_pattern_mismatch")]


def test_a_nul_character_in_a_key_the_route_ignores_is_ignored_with_it():
    response = TestClient(app_of("order_sync")).post("/api/v1/sold-products",
                                                    json={"account": "ACME", "product": "Press", "n\x00te": "\x00"})
    assert_problem(response, 401, "auth.token_missing")  # past the input checks
