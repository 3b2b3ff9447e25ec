"""Production verification: RS256 tokens checked against the identity provider's JWKS, served
here by a real HTTP server on loopback."""

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.backbone.auth import InvalidToken, TokenVerifier


def _key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def identity_provider():
    signing = _key()
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(signing.public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    class JWKS(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), JWKS)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield signing, f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json"
    server.shutdown()


def _token(key, kid="k1", audience="clm-platform", **claims):
    now = dt.datetime.now(dt.UTC)
    payload = {"sub": "alice", "roles": ["legal_counsel"], "aud": audience, "iss": "https://idp.example",
               "iat": now, "exp": now + dt.timedelta(minutes=5), **claims}
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})


def _verifier(url):
    return TokenVerifier(secret=None, jwks_url=url, audience="clm-platform", issuer="https://idp.example")


def test_token_signed_by_the_identity_provider_is_accepted(identity_provider):
    key, url = identity_provider
    principal = _verifier(url).verify(_token(key))
    assert principal.subject == "alice" and principal.roles == frozenset({"legal_counsel"})


def test_token_signed_by_another_key_is_refused(identity_provider):
    _, url = identity_provider
    with pytest.raises(InvalidToken):
        _verifier(url).verify(_token(_key()))


def test_token_for_another_audience_or_issuer_is_refused(identity_provider):
    key, url = identity_provider
    with pytest.raises(InvalidToken):
        _verifier(url).verify(_token(key, audience="someone-else"))
    with pytest.raises(InvalidToken):
        _verifier(url).verify(_token(key, iss="https://evil.example"))


def test_a_shared_secret_token_is_refused_where_jwks_is_configured(identity_provider):
    _, url = identity_provider
    hs = jwt.encode({"sub": "mallory", "roles": ["sre"], "exp": dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)},
                    "guessable-secret-guessable-secret", algorithm="HS256", headers={"kid": "k1"})
    with pytest.raises(InvalidToken):
        _verifier(url).verify(hs)
