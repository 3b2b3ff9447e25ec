"""`python -m services.kafka_access --provision` (compose's kafka-provision): the admin from KAFKA_*."""
from services import kafka_access


def test_admin_access_from_env():
    access = kafka_access.admin_access_from_env({
        "KAFKA_BOOTSTRAP_SERVERS": "kafka:9092", "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512", "KAFKA_SASL_USERNAME": "admin", "KAFKA_SASL_PASSWORD": "pw"})
    assert (access.bootstrap_servers, access.security_protocol, access.sasl_mechanism) == (
        "kafka:9092", "SASL_PLAINTEXT", "SCRAM-SHA-512")
    assert (access.sasl_username, access.sasl_password, access.ssl_cafile) == ("admin", "pw", None)


def test_provision_needs_a_bootstrap(monkeypatch, capsys):
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    assert kafka_access.main(["--provision"]) == 2
    assert "KAFKA_BOOTSTRAP_SERVERS" in capsys.readouterr().err


def test_provision_runs_with_the_admin_of_the_environment(monkeypatch):
    seen = []

    async def fake_provision(access, *args):
        seen.append(access)

    monkeypatch.setattr(kafka_access, "provision", fake_provision)
    for key, value in {"KAFKA_BOOTSTRAP_SERVERS": "kafka:9092", "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
                       "KAFKA_SASL_USERNAME": "admin", "KAFKA_SASL_PASSWORD": "pw"}.items():
        monkeypatch.setenv(key, value)
    assert kafka_access.main(["--provision"]) == 0
    assert [(a.sasl_username, a.security_protocol) for a in seen] == [("admin", "SASL_PLAINTEXT")]
