"""Bearer-token authentication and role checks, through a tiny FastAPI app with the services'
real problem-body handlers."""

import datetime as dt

import jwt
import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from shared.backbone.app import _install_error_handlers
from shared.backbone.auth import (
    LEEWAY, MAX_TOKEN_LIFETIME, REVERIFY_AFTER, InvalidToken, Principal, Role, TokenVerifier, issue_token, require_roles,
)

SECRET = "unit-test-secret-0123456789abcdef"


@pytest.fixture(scope="module")
def client():
    app = FastAPI()
    app.state.token_verifier = TokenVerifier(secret=SECRET, jwks_url=None)
    app.state.settings = None
    _install_error_handlers(app)

    @app.post("/activations")
    def activate(principal: Principal = Depends(require_roles(Role.SALES_OPS, Role.CONTRACT_MANAGER))) -> dict:
        return {"subject": principal.subject, "roles": sorted(principal.roles)}

    @app.get("/open")
    def open_route() -> dict:
        return {"status": "ok"}

    with TestClient(app) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response, status: int, rule: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["rule"] == rule
    assert body["type"] == f"urn:clm-platform:problem:{rule}"
    return body


def test_no_token_is_401_token_missing_with_a_bearer_challenge(client):
    response = client.post("/activations")
    assert_problem(response, 401, "auth.token_missing")
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_non_bearer_scheme_counts_as_no_token(client):
    response = client.post("/activations", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert_problem(response, 401, "auth.token_missing")
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "token",
    [
        "not-a-jwt",
        "a.b.c",
        issue_token("some-other-secret-0123456789abcdef", "mallory", [Role.SALES_OPS]),
        issue_token(SECRET, "alice", [Role.SALES_OPS], ttl=-(LEEWAY + dt.timedelta(seconds=1))),
        issue_token(SECRET, "alice", [Role.SALES_OPS], ttl=dt.timedelta(days=365 * 100)),
        issue_token(SECRET, "alice", [Role.SALES_OPS], ttl=MAX_TOKEN_LIFETIME + dt.timedelta(minutes=5)),
        issue_token(SECRET, "alice", [Role.SALES_OPS], issuer="https://someone-else.example"),
        issue_token(SECRET, "alice", [Role.SALES_OPS], audience="another-platform"),
    ],
    ids=["malformed", "garbage_segments", "wrong_secret", "expired", "a_hundred_years", "longer_than_allowed",
         "other_issuer", "other_audience"],
)
def test_an_unusable_token_is_401_token_invalid(client, token):
    response = client.post("/activations", headers=bearer(token))
    assert_problem(response, 401, "auth.token_invalid")
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_token_that_claims_a_late_issue_to_pass_the_lifetime_check_is_refused(client):
    now = dt.datetime.now(dt.UTC)
    claims = {"sub": "alice", "roles": [Role.SALES_OPS], "iss": "clm-platform-local", "aud": "clm-platform",
              "iat": now + dt.timedelta(days=3000), "exp": now + dt.timedelta(days=3000, hours=1)}
    assert_problem(client.post("/activations", headers=bearer(jwt.encode(claims, SECRET, algorithm="HS256"))),
                   401, "auth.token_invalid")


@pytest.mark.parametrize("missing", ["iat", "iss", "aud"])
def test_a_token_without_issue_time_issuer_or_audience_is_refused(client, missing):
    now = dt.datetime.now(dt.UTC)
    claims = {"sub": "alice", "roles": [Role.SALES_OPS], "iss": "clm-platform-local", "aud": "clm-platform",
              "iat": now, "exp": now + dt.timedelta(hours=1)}
    del claims[missing]
    assert_problem(client.post("/activations", headers=bearer(jwt.encode(claims, SECRET, algorithm="HS256"))),
                   401, "auth.token_invalid")


def test_a_token_of_the_longest_allowed_lifetime_is_accepted(client):
    token = issue_token(SECRET, "alice", [Role.SALES_OPS], ttl=MAX_TOKEN_LIFETIME)
    assert client.post("/activations", headers=bearer(token)).status_code == 200


def test_a_token_without_expiry_is_refused(client):
    token = jwt.encode({"sub": "alice", "roles": [Role.SALES_OPS]}, SECRET, algorithm="HS256")
    assert_problem(client.post("/activations", headers=bearer(token)), 401, "auth.token_invalid")


def test_an_unsigned_token_is_refused(client):
    token = jwt.encode({"sub": "alice", "roles": [Role.SALES_OPS], "exp": dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)},
                       None, algorithm="none")
    assert_problem(client.post("/activations", headers=bearer(token)), 401, "auth.token_invalid")


@pytest.mark.parametrize("roles", ["sales_ops", {"sales_ops": True}, 7], ids=["string", "object", "number"])
def test_a_roles_claim_that_is_not_a_list_is_401(client, roles):
    now = dt.datetime.now(dt.UTC)
    token = jwt.encode({"sub": "alice", "roles": roles, "iat": now, "exp": now + dt.timedelta(hours=1)},
                       SECRET, algorithm="HS256")
    assert_problem(client.post("/activations", headers=bearer(token)), 401, "auth.token_invalid")


@pytest.mark.parametrize("roles", [[], [Role.SALES], [Role.LEGAL_COUNSEL, Role.FINANCE, Role.SRE]])
def test_a_valid_token_without_the_role_is_403_listing_the_required_roles(client, roles):
    response = client.post("/activations", headers=bearer(issue_token(SECRET, "bob", roles)))
    body = assert_problem(response, 403, "auth.role_required")
    assert body["required_roles"] == ["contract_manager", "sales_ops"]


def test_the_403_detail_names_the_roles_as_callers_spell_them(client):
    """The detail is read by people calling the API: it must say `sales_ops`, not a Python repr."""
    response = client.post("/activations", headers=bearer(issue_token(SECRET, "bob", [Role.SALES])))
    detail = assert_problem(response, 403, "auth.role_required")["detail"]
    assert "sales_ops" in detail and "contract_manager" in detail
    assert "Role." not in detail and "<" not in detail


@pytest.mark.parametrize("roles", [[Role.SALES_OPS], [Role.CONTRACT_MANAGER], [Role.SALES, Role.CONTRACT_MANAGER]])
def test_a_valid_token_with_one_of_the_roles_is_let_through(client, roles):
    response = client.post("/activations", headers=bearer(issue_token(SECRET, "carol", roles)))
    assert response.status_code == 200, response.text
    assert response.json() == {"subject": "carol", "roles": sorted(str(r) for r in roles)}


def test_the_open_route_needs_no_token(client):
    response = client.get("/open")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    # and a bad token does not matter there
    assert client.get("/open", headers=bearer("not-a-jwt")).status_code == 200


class FakeTime:
    def __init__(self) -> None:
        self.value = dt.datetime.now(dt.UTC).timestamp()

    def __call__(self) -> float:
        return self.value


def test_a_remembered_token_is_refused_once_it_has_expired():
    clock = FakeTime()
    verifier = TokenVerifier(secret=SECRET, jwks_url=None, now=clock)
    token = issue_token(SECRET, "ops", [Role.SALES_OPS.value], ttl=dt.timedelta(seconds=5))
    assert verifier.verify(token).subject == "ops"
    clock.value += 5 + LEEWAY.total_seconds() - 5
    assert verifier.verify(token).subject == "ops"  # within the leeway, from memory
    clock.value += 10
    with pytest.raises(InvalidToken):
        verifier.verify(token)


def test_a_remembered_token_is_verified_afresh_after_a_while():
    clock = FakeTime()
    verifier = TokenVerifier(secret=SECRET, jwks_url=None, now=clock)
    token = issue_token(SECRET, "ops", [Role.SALES_OPS.value])
    assert verifier.verify(token).roles == {Role.SALES_OPS.value}
    verifier._secret = "another-secret-0123456789abcdef-xx"  # as if the key had been withdrawn
    assert verifier.verify(token).subject == "ops"
    clock.value += REVERIFY_AFTER
    with pytest.raises(InvalidToken):
        verifier.verify(token)
