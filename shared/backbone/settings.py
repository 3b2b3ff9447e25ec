"""Settings from the environment (pydantic-settings). Secrets only ever come from here."""

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    database_url: str = Field(description="postgresql+asyncpg://<service role>:<pw>@host:port/db")
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    auth_jwt_secret: SecretStr | None = Field(None, description="HS256 shared secret (local runs)")
    auth_jwks_url: str | None = Field(None, description="JWKS endpoint (production, RS256/ES256)")
    auth_audience: str = Field("clm-platform", description="the `aud` every token must name")
    auth_issuer: str = Field("clm-platform-local", description="the `iss` every token must name (the identity provider's, in production)")
    auth_max_token_lifetime_seconds: int = Field(86_400, gt=0, description="tokens living longer are refused")
    log_level: str = "INFO"
    port: int = 8000
    db_pool_size: int = 10
    relay_batch_size: int = 500
    consumer_max_attempts: int = 3
    shutdown_grace_seconds: float = 20.0
    allow_clock_control: bool = Field(False, description="dev/test stacks only: PUT /api/v1/ops/clock moves time")
