"""The request path every service shares: a request's correlation id reaches its logs and its
answer, errors included."""

from fastapi import FastAPI
from fastapi.testclient import TestClient

from shared.backbone.app import _install_error_handlers, _install_middleware
from shared.backbone.errors import NotFound
from shared.backbone.logging import correlation_id


def app() -> FastAPI:
    application = FastAPI()
    application.state.settings = None
    _install_middleware(application, "unit")
    _install_error_handlers(application)

    @application.get("/seen")
    async def seen() -> dict:
        return {"correlation_id": correlation_id.get()}

    @application.get("/missing")
    async def missing() -> dict:
        raise NotFound("contract", "c-1")

    return application


def test_the_callers_correlation_id_is_bound_while_handling_and_echoed():
    with TestClient(app()) as client:
        r = client.get("/seen", headers={"x-correlation-id": "abc-123"})
    assert r.status_code == 200
    assert r.json() == {"correlation_id": "abc-123"}
    assert r.headers["x-correlation-id"] == "abc-123"


def test_without_one_a_fresh_id_is_made_and_echoed_also_on_a_refusal():
    with TestClient(app()) as client:
        ok, refused = client.get("/seen"), client.get("/missing")
    assert ok.headers["x-correlation-id"] == ok.json()["correlation_id"] != ""
    assert refused.status_code == 404 and refused.headers["x-correlation-id"]
    assert refused.headers["x-correlation-id"] != ok.headers["x-correlation-id"]
    assert correlation_id.get() == ""  # not left bound after the request
