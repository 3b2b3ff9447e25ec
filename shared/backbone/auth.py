"""Bearer-token authentication and role checks, following the RACI of docs/domain.md.

Tokens are JWTs whose `roles` claim lists personas. Local runs sign them with a shared secret
(HS256); production verifies them against the identity provider's JWKS. Health routes stay open.

Every token must name the issuer and the audience this platform trusts (AUTH_ISSUER,
AUTH_AUDIENCE: production takes both from its identity provider) and live no longer than
AUTH_MAX_TOKEN_LIFETIME_SECONDS: a leaked token of a hundred years would otherwise be a key for
ever. Lifetime counts from `iat` and from now, so a token cannot claim to have been issued late.

A verified token is remembered for REVERIFY_AFTER (a client sends the same one with every request;
decoding and checking it was a few % of a command's CPU). A remembered token is still refused once
expired; every other check only gets easier with time (issued-at and not-before pass once passed,
the remaining lifetime shrinks), and REVERIFY_AFTER is shorter than PyJWKClient's key-set cache
(300 s), so a key withdrawn from the identity provider stops a token no later than before.
"""

import datetime as dt
import time
from typing import Callable
from dataclasses import dataclass
from enum import StrEnum

import jwt
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer


class Role(StrEnum):
    SALES = "sales"
    SALES_OPS = "sales_ops"
    LEGAL_COUNSEL = "legal_counsel"
    CONTRACT_MANAGER = "contract_manager"
    FINANCE = "finance"
    SALES_LEADERSHIP = "sales_leadership"  # approves deals (phase 4) by the approval matrix
    ASSET_MANAGER = "asset_manager"
    SRE = "sre"


ALL_ROLES = frozenset(Role)


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[str]


class InvalidToken(Exception):
    pass


LOCAL_ISSUER = "clm-platform-local"
AUDIENCE = "clm-platform"
MAX_TOKEN_LIFETIME = dt.timedelta(hours=24)
LEEWAY = dt.timedelta(seconds=30)  # clocks of the identity provider and the services differ a little
REVERIFY_AFTER = 60.0  # s a verified token is taken from memory before it is verified afresh
REMEMBERED_TOKENS = 4096  # at most; then the memory starts over


class TokenVerifier:
    def __init__(self, *, secret: str | None, jwks_url: str | None, audience: str = AUDIENCE, issuer: str = LOCAL_ISSUER,
                 max_lifetime: dt.timedelta = MAX_TOKEN_LIFETIME, now: Callable[[], float] = time.time):
        if not secret and not jwks_url:
            raise ValueError("set AUTH_JWT_SECRET (local) or AUTH_JWKS_URL (production)")
        if not audience or not issuer:
            raise ValueError("set AUTH_AUDIENCE and AUTH_ISSUER: tokens of any audience or issuer are not accepted")
        self._secret = secret
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True) if jwks_url else None
        self._audience = audience
        self._issuer = issuer
        self._max_lifetime = max_lifetime
        self._now = now
        self._verified: dict[str, tuple[float, float, Principal]] = {}  # token -> (verified at, exp, principal)

    def verify(self, token: str) -> Principal:
        now = self._now()
        if (known := self._verified.get(token)) is not None:
            verified_at, expires, principal = known
            if expires <= now - LEEWAY.total_seconds():
                del self._verified[token]
                raise InvalidToken("Signature has expired")  # as PyJWT words it
            if now - verified_at < REVERIFY_AFTER:
                return principal
            del self._verified[token]
        principal, expires = self._decode(token)
        if len(self._verified) >= REMEMBERED_TOKENS:
            self._verified.clear()
        self._verified[token] = (now, expires, principal)
        return principal

    def _decode(self, token: str) -> tuple[Principal, float]:
        try:
            if self._jwks is not None:
                key, algorithms = self._jwks.get_signing_key_from_jwt(token).key, ["RS256", "ES256"]
            else:
                key, algorithms = self._secret, ["HS256"]
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=self._audience,
                issuer=self._issuer,
                leeway=LEEWAY,
                options={"require": ["sub", "exp", "iat", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        expires = dt.datetime.fromtimestamp(claims["exp"], dt.UTC)
        issued = dt.datetime.fromtimestamp(claims["iat"], dt.UTC)
        if expires - issued > self._max_lifetime or expires - dt.datetime.now(dt.UTC) > self._max_lifetime + LEEWAY:
            raise InvalidToken(f"the token lives longer than the {int(self._max_lifetime.total_seconds())} s allowed")
        roles = claims.get("roles", [])
        if not isinstance(roles, list):
            raise InvalidToken("the roles claim must be a list")
        return Principal(subject=str(claims["sub"]), roles=frozenset(map(str, roles))), float(claims["exp"])


def issue_token(secret: str, subject: str, roles: list[str], ttl: dt.timedelta = dt.timedelta(hours=12),
                issuer: str = LOCAL_ISSUER, audience: str = AUDIENCE) -> str:
    """A locally signed token, for development and tests."""
    now = dt.datetime.now(dt.UTC)
    claims = {"sub": subject, "roles": roles, "iat": now, "exp": now + ttl, "iss": issuer, "aud": audience}
    return jwt.encode(claims, secret, algorithm="HS256")


_bearer = HTTPBearer(auto_error=False, description="JWT with a `roles` claim")


# The dependencies below are `async def` although they never await: FastAPI runs a plain `def`
# dependency in a worker thread, a hand-off that cost more CPU per request than the checks themselves.
async def authenticated(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(401, detail={"rule": "auth.token_missing", "message": "a bearer token is required"},
                            headers={"WWW-Authenticate": "Bearer"})
    try:
        return request.app.state.token_verifier.verify(credentials.credentials)
    except InvalidToken as exc:
        raise HTTPException(401, detail={"rule": "auth.token_invalid", "message": str(exc)},
                            headers={"WWW-Authenticate": "Bearer"}) from exc


def require_roles(*roles: Role):
    """Dependency: the caller must hold one of `roles` (the Responsible or Accountable personas)."""
    allowed = frozenset(roles)

    async def check(principal: Principal = Depends(authenticated)) -> Principal:
        if not principal.roles & allowed:
            raise HTTPException(
                403,
                detail={"rule": "auth.role_required",
                        "message": f"one of the roles {sorted(map(str, allowed))} is required",
                        "required_roles": sorted(allowed)},
            )
        return principal

    check.required_roles = allowed  # what the OpenAPI document reads (shared/backbone/openapi.py)
    return check


any_role = require_roles(*Role)
