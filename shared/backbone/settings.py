"""Settings from the environment (pydantic-settings). Secrets only ever come from here."""

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.backbone.kafka import KafkaAccess


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    database_url: str = Field(description="postgresql+asyncpg://<service role>:<pw>@host:port/db")
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_security_protocol: Literal["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL", "SSL"] = Field(
        "PLAINTEXT", description="PLAINTEXT reaches an unsecured cluster; SASL_SSL in production, SASL_PLAINTEXT locally")
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = "SCRAM-SHA-512"
    kafka_sasl_username: str | None = Field(None, description="the service's own principal (its name)")
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: str | None = Field(None, description="CA bundle of the brokers' certificates (SSL, SASL_SSL)")
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
    http_keep_alive_seconds: int = Field(75, gt=0, description="idle keep-alive connections are closed after this")
    allow_clock_control: bool = Field(False, description="dev/test stacks only: PUT /api/v1/ops/clock moves time")

    def kafka(self) -> KafkaAccess:
        """The connection every Kafka client of the service uses."""
        return KafkaAccess(
            bootstrap_servers=self.kafka_bootstrap_servers,
            security_protocol=self.kafka_security_protocol,
            sasl_mechanism=self.kafka_sasl_mechanism,
            sasl_username=self.kafka_sasl_username,
            sasl_password=self.kafka_sasl_password.get_secret_value() if self.kafka_sasl_password else None,
            ssl_cafile=self.kafka_ssl_cafile,
        )
