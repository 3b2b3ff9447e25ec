"""Signature's settings, from the environment (read once per service start): the SMTP server
(the same names as the scheduler's), where signing links point, how long a link lives, and the
providers' accounts and webhook secrets."""

from functools import cache

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.backbone.mail import SmtpSettings


class SignatureSettings(SmtpSettings, BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    signing_base_url: str = "http://localhost:8000"  # SIGNING_BASE_URL: what the mailed links start with
    signing_link_days: int = 7  # SIGNING_LINK_DAYS: a link expires then (or at the deadline, if earlier)
    signing_mail_tick_seconds: float = 1.0
    docusign_base_url: str = "https://demo.docusign.net"
    docusign_account_id: str = ""
    docusign_access_token: SecretStr | None = None
    docusign_connect_keys: str = ""  # DOCUSIGN_CONNECT_KEYS: comma-separated HMAC keys (several during rotation)
    adobe_sign_base_url: str = "https://api.na1.adobesign.com"
    adobe_sign_access_token: SecretStr | None = None
    adobe_sign_client_id: str = ""  # ADOBE_SIGN_CLIENT_ID: the only X-AdobeSign-ClientId echoed


    @property
    def connect_keys(self) -> list[bytes]:
        return [k.strip().encode() for k in self.docusign_connect_keys.split(",") if k.strip()]


@cache
def signature_settings() -> SignatureSettings:
    return SignatureSettings()
