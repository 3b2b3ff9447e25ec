"""The local platform: `python -m devstack up|down|status` (what `make run` / `make stop` call).

`up` starts PostgreSQL, Kafka and an SMTP server (aiosmtpd, storing every mail it receives in
.devstack/dev/smtp/mailbox as .eml files) as local processes unless DATABASE_URL (a superuser DSN) and
KAFKA_BOOTSTRAP_SERVERS point at existing ones, provisions the database roles and schemas (and, on
its own broker, the topics and each service's Kafka ACLs: SASL/SCRAM, one principal per service),
starts every service (each applies its migrations), waits until all are ready, and prints
their URLs and a development token. State lives in .devstack/dev/.
"""

import argparse
import asyncio
import json
import os
import secrets
import sys
import time
from pathlib import Path

from devstack.kafka import ADMIN_USER, LocalKafka
from devstack.postgres import LocalPostgres
from devstack.smtp import LocalSmtp
from devstack.process import pid_alive, service_port, start_detached, stop_pidfile, wait_http_ok
from services import kafka_access
from services.catalogue import SERVICES
from shared.backbone.auth import Role, issue_token
from services.provision import password_env, provision, service_database_url

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".devstack" / "dev"
# Below Linux's ephemeral range (32768-60999): a port in it may be taken as the source port of an
# outgoing connection while the broker or the database is down, which keeps it from binding again.
PG_PORT, KAFKA_PORT, KAFKA_CONTROLLER_PORT = 25432, 29092, 29093
SMTP_PORT = 25025


def _smtp() -> LocalSmtp:
    return LocalSmtp(STATE / "smtp", port=int(os.environ.get("DEV_SMTP_PORT", SMTP_PORT)))


def _postgres() -> LocalPostgres:
    return LocalPostgres(STATE / "postgres", port=int(os.environ.get("DEV_PG_PORT", PG_PORT)))


def kafka_password_env(service: str) -> str:
    return f"{service.upper()}_KAFKA_PASSWORD"


def _kafka() -> LocalKafka:
    env = _secrets()
    return LocalKafka(STATE / "kafka", port=int(os.environ.get("DEV_KAFKA_PORT", KAFKA_PORT)),
                      controller_port=int(os.environ.get("DEV_KAFKA_CONTROLLER_PORT", KAFKA_CONTROLLER_PORT)),
                      admin_password=env[kafka_password_env(ADMIN_USER)],
                      users={s.name: env[kafka_password_env(s.name)] for s in SERVICES})


def _secrets() -> dict:
    """Development secrets, generated once per checkout; the environment wins where set."""
    path = STATE / "secrets.json"
    stored = json.loads(path.read_text()) if path.exists() else {}
    # Kafka's SCRAM users are written when its storage is formatted: a checkout from before they
    # existed gets them here once, and `make stop; rm -rf .devstack/dev/kafka` then formats afresh.
    kafka_users = [kafka_password_env(name) for name in (ADMIN_USER, *(s.name for s in SERVICES))]
    if not stored or any(k not in stored for k in kafka_users):
        stored = stored or {"AUTH_JWT_SECRET": secrets.token_urlsafe(32)}
        stored |= {password_env(s): secrets.token_urlsafe(16) for s in SERVICES if password_env(s) not in stored}
        stored |= {k: secrets.token_urlsafe(16) for k in kafka_users if k not in stored}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(stored, indent=2))
        path.chmod(0o600)
    return {k: os.environ.get(k, v) for k, v in stored.items()}


def _pid_path(name: str) -> Path:
    return STATE / "run" / f"{name}.pid"


def up() -> int:
    started = time.monotonic()
    admin_url = os.environ.get("DATABASE_URL")
    if not admin_url:
        print("starting PostgreSQL ...", flush=True)
        admin_url = _postgres().start()
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    env = _secrets()
    kafka_env: dict = {}  # an existing cluster: the KAFKA_* of this environment reach it, for every service
    if not bootstrap:
        print("starting Kafka ...", flush=True)
        kafka = _kafka()
        bootstrap = kafka.start()
        asyncio.run(kafka_access.provision(kafka.admin))
        kafka_env = {"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512"}
    asyncio.run(provision(admin_url, {s.name: env[password_env(s)] for s in SERVICES}))
    smtp_env = {"SMTP_HOST": os.environ["SMTP_HOST"], "SMTP_PORT": os.environ.get("SMTP_PORT", "25")} \
        if os.environ.get("SMTP_HOST") else None
    if smtp_env is None:
        print("starting the SMTP server ...", flush=True)
        host, port = _smtp().start()
        smtp_env = {"SMTP_HOST": host, "SMTP_PORT": str(port)}
    for spec in SERVICES:
        if pid_alive(_pid_path(spec.name)):
            continue
        service_env = {
            "DATABASE_URL": service_database_url(admin_url, spec, env[password_env(spec)]),
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            **kafka_env,
            **({"KAFKA_SASL_USERNAME": spec.name, "KAFKA_SASL_PASSWORD": env[kafka_password_env(spec.name)]}
               if kafka_env else {}),
            "AUTH_JWT_SECRET": env["AUTH_JWT_SECRET"],
            "PORT": str(service_port(spec.local_port)),
            "PYTHONPATH": str(ROOT),
        }
        if spec.name in ("lifecycle_scheduler", "order_sync"):
            service_env["ALLOW_CLOCK_CONTROL"] = "true"  # dev stack only: lets you move time (the two that read dates)
        if spec.name == "lifecycle_scheduler":
            service_env |= smtp_env  # the notification channel mails through it
        if spec.name == "clm":  # signing links are mailed by clm and open its signing page
            service_env |= smtp_env | {"SIGNING_BASE_URL": f"http://127.0.0.1:{service_port(spec.local_port)}"}
        start_detached(spec.name, [sys.executable, "-m", spec.module], env=service_env, cwd=ROOT,
                       log_path=STATE / "logs" / f"{spec.name}.log", pid_path=_pid_path(spec.name))
    for spec in SERVICES:
        try:
            wait_http_ok(f"http://127.0.0.1:{service_port(spec.local_port)}/readyz", timeout=90)
        except TimeoutError:
            print(f"{spec.name} is not ready; see {STATE / 'logs' / (spec.name + '.log')}", file=sys.stderr)
            return 1
    token = issue_token(env["AUTH_JWT_SECRET"], "developer", [r.value for r in Role])
    (STATE / "token").write_text(token + "\n")
    print(f"\nall services ready in {time.monotonic() - started:.1f}s\n")
    for spec in SERVICES:
        print(f"  {spec.name:<20} http://127.0.0.1:{service_port(spec.local_port)}/docs   ({spec.summary})")
    print(f"\n  PostgreSQL  {admin_url.split('@')[-1]}\n  Kafka       {bootstrap}")
    print(f"  SMTP        {smtp_env['SMTP_HOST']}:{smtp_env['SMTP_PORT']}"
          f"   mails received: {_smtp().mailbox.directory}")
    print(f"\na development token with every role is in {STATE / 'token'}:\n  export TOKEN=$(cat {STATE / 'token'})")
    print(f"logs: {STATE / 'logs'}    stop: make stop")
    return 0


def down() -> int:
    for spec in reversed(SERVICES):
        if stop_pidfile(_pid_path(spec.name), timeout=30):
            print(f"stopped {spec.name}")
    if not os.environ.get("KAFKA_BOOTSTRAP_SERVERS") and _kafka().is_running():
        _kafka().stop()
        print("stopped Kafka")
    if not os.environ.get("SMTP_HOST") and _smtp().is_running():
        _smtp().stop()
        print("stopped the SMTP server")
    if not os.environ.get("DATABASE_URL") and _postgres().is_running():
        _postgres().stop()
        print("stopped PostgreSQL")
    return 0


def status() -> int:
    for spec in SERVICES:
        pid = pid_alive(_pid_path(spec.name))
        print(f"{spec.name:<20} {'running pid ' + str(pid) if pid else 'stopped'}")
    print(f"{'kafka':<20} {'running' if _kafka().is_running() else 'stopped'}")
    print(f"{'postgres':<20} {'running' if _postgres().is_running() else 'stopped'}")
    print(f"{'smtp':<20} {'running' if _smtp().is_running() else 'stopped'}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["up", "down", "status"])
    return {"up": up, "down": down, "status": status}[parser.parse_args().command]()


if __name__ == "__main__":
    sys.exit(main())
