"""The deployment artefacts agree with the service catalogue and with the services themselves.

Plain offline tests: docker-compose.yml is parsed, the Kubernetes base and local overlay are rendered
with `kubectl kustomize` and validated against the Kubernetes OpenAPI schemas, and the probe paths
the manifests use are checked against the routes of each service's FastAPI app.
"""
from __future__ import annotations

import functools
import importlib
import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml

from services.catalogue import DATABASE_NAME, SERVICES
from shared.backbone.service_spec import ServiceSpec

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
K8S_BASE = ROOT / "deploy" / "k8s" / "base"
K8S_LOCAL = ROOT / "deploy" / "k8s" / "overlays" / "local"
DOCKERFILE = ROOT / "deploy" / "docker" / "Dockerfile"
KAFKA_START = ROOT / "deploy" / "kafka" / "start-kafka.sh"

# Kubernetes API version the rendered objects are validated against (must be one that the
# installed kubernetes-validate ships schemas for).
K8S_VERSION = "1.32.0"

LIVENESS_PATH = "/healthz"
READINESS_PATH = "/readyz"
CONTAINER_PORT = 8000
SECRET_NAME = "clm-platform-secrets"
SCHEDULER = "lifecycle_scheduler"

# Keys that must never appear in a ConfigMap: they hold (or embed) credentials.
SECRET_LOOKING_KEY = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL|PRIVATE|API_?KEY|DATABASE_URL|DSN", re.I)
# A URL with user:password@ in it.
URL_WITH_PASSWORD = re.compile(r"://[^/\s:@]+:[^/\s@]+@")

by_service = pytest.mark.parametrize("spec", SERVICES, ids=lambda s: s.name)


def password_env(spec: ServiceSpec) -> str:
    return f"{spec.name.upper()}_DB_PASSWORD"


def kafka_password_env(name: str) -> str:
    return f"{name.upper()}_KAFKA_PASSWORD"


# ${VAR:-default}, as compose substitutes it when VAR is unset.
VAR_WITH_DEFAULT = re.compile(r"^\$\{(\w+):-([^}]*)\}$")


def env_default(value: str) -> str:
    """The value compose gives `${VAR:-default}` with VAR unset (a literal stays itself)."""
    m = VAR_WITH_DEFAULT.match(str(value))
    return m.group(2) if m else str(value)


# --------------------------------------------------------------------------------------------
# docker-compose.yml
# --------------------------------------------------------------------------------------------

@functools.cache
def compose() -> dict:
    with COMPOSE_FILE.open() as f:
        return yaml.safe_load(f)


def compose_service(name: str) -> dict:
    services = compose().get("services") or {}
    assert name in services, f"docker-compose.yml has no service {name!r} (has {sorted(services)})"
    return services[name]


def test_compose_has_infrastructure():
    pg = compose_service("postgres")
    assert str(pg["image"]).startswith("postgres:15")
    assert "pg_isready" in " ".join(pg["healthcheck"]["test"])

    kafka = compose_service("kafka")
    assert str(kafka["image"]).startswith("apache/kafka")
    assert kafka.get("healthcheck", {}).get("test"), "kafka needs a healthcheck"
    # Its properties (single-node KRaft, unlimited retention, SASL, ACLs): test_compose_kafka_broker_is_secured.


def test_compose_provision_is_one_shot_with_every_password():
    prov = compose_service("provision")
    app_image = compose_service(SERVICES[0].k8s_name)["image"]
    assert prov["image"] == app_image, "provision runs from the app image"
    assert prov["build"]["dockerfile"] == "deploy/docker/Dockerfile"
    assert prov["command"] == ["python", "-m", "services.provision"]
    assert prov["restart"] == "no"
    assert prov["depends_on"]["postgres"]["condition"] == "service_healthy"
    env = prov["environment"]
    admin = urlsplit(env["ADMIN_DATABASE_URL"])
    assert admin.scheme == "postgresql" and admin.username == "postgres" and admin.path == "/postgres"
    for spec in SERVICES:
        assert env.get(password_env(spec)), f"provision lacks {password_env(spec)}"


@by_service
def test_compose_service(spec: ServiceSpec):
    svc = compose_service(spec.k8s_name)
    assert svc["image"] == compose_service("provision")["image"]
    assert svc["build"]["dockerfile"] == "deploy/docker/Dockerfile"
    assert svc["command"] == ["python", "-m", spec.module]
    assert f"{spec.local_port}:{CONTAINER_PORT}" in [str(p) for p in svc["ports"]]

    deps = svc["depends_on"]
    assert deps["provision"]["condition"] == "service_completed_successfully"
    assert deps["kafka-provision"]["condition"] == "service_completed_successfully", "topics and ACLs first"
    assert deps["postgres"]["condition"] == "service_healthy"
    assert deps["kafka"]["condition"] == "service_healthy"

    check = " ".join(svc["healthcheck"]["test"])
    assert f":{CONTAINER_PORT}{READINESS_PATH}" in check, f"healthcheck must probe {READINESS_PATH}: {check}"

    env = svc["environment"]
    assert str(env["PORT"]) == str(CONTAINER_PORT)
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    # Its own Kafka principal, over SASL/SCRAM, its password from its own variable with a dev default,
    # the one the broker gave its SCRAM user.
    assert env["KAFKA_SECURITY_PROTOCOL"] == "SASL_PLAINTEXT"
    assert env["KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
    assert env["KAFKA_SASL_USERNAME"] == spec.name
    m = VAR_WITH_DEFAULT.match(env["KAFKA_SASL_PASSWORD"])
    assert m and m.group(1) == kafka_password_env(spec.name) and m.group(2), env["KAFKA_SASL_PASSWORD"]
    assert env["KAFKA_SASL_PASSWORD"] == compose_service("kafka")["environment"][kafka_password_env(spec.name)]
    assert env.get("AUTH_JWT_SECRET")
    url = urlsplit(env["DATABASE_URL"])
    assert url.scheme == "postgresql+asyncpg"
    assert url.username == spec.db_role, "each service connects with its own role"
    assert (url.hostname, url.port, url.path) == ("postgres", 5432, f"/{DATABASE_NAME}")
    # The password the service uses is the one provision gave its role (same ${VAR:-default}).
    assert url.password == compose_service("provision")["environment"][password_env(spec)]


def test_compose_kafka_passwords_are_distinct():
    passwords = [env_default(compose_service(s.k8s_name)["environment"]["KAFKA_SASL_PASSWORD"]) for s in SERVICES]
    admin = env_default(compose_service("kafka")["environment"][kafka_password_env("admin")])
    assert len({*passwords, admin}) == len(SERVICES) + 1


def run_kafka_start(tmp_path: Path) -> tuple[dict[str, str], list[str], list[str]]:
    """Runs the broker's entrypoint script with the compose environment (defaults substituted) and
    stub kafka-storage.sh / kafka-server-start.sh: the properties it writes, both stubs' arguments."""
    kafka = compose_service("kafka")
    assert kafka["entrypoint"] == ["bash", "/opt/clm/start-kafka.sh"]
    assert "./deploy/kafka/start-kafka.sh:/opt/clm/start-kafka.sh:ro" in kafka["volumes"]
    bash = shutil.which("bash")
    if bash is None:
        pytest.fail("bash is required to run deploy/kafka/start-kafka.sh", pytrace=False)
    bin_dir = tmp_path / "kafka" / "bin"
    bin_dir.mkdir(parents=True)
    for tool in ("kafka-storage.sh", "kafka-server-start.sh"):
        stub = bin_dir / tool
        stub.write_text(f'#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done > "{tmp_path}/{tool}.args"\n')
        stub.chmod(0o755)
    env = {k: env_default(v) for k, v in kafka["environment"].items()}
    env |= {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "KAFKA_HOME": str(tmp_path / "kafka"),
            "KAFKA_CONFIG_DIR": str(tmp_path / "config"), "KAFKA_DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.run([bash, str(KAFKA_START)], env=env, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    props = {}
    for line in (tmp_path / "config" / "server.properties").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            props[key] = value
    args = lambda tool: (tmp_path / f"{tool}.args").read_text().splitlines()  # noqa: E731
    return props, args("kafka-storage.sh"), args("kafka-server-start.sh")


def test_compose_kafka_broker_is_secured(tmp_path: Path):
    props, format_args, start_args = run_kafka_start(tmp_path)
    assert start_args == [str(tmp_path / "config" / "server.properties")]
    assert props["process.roles"] == "broker,controller", "single-node KRaft"
    assert props["log.retention.ms"] == "-1", "topics are replayed: retention must be unlimited"
    # Every listener authenticates: no PLAINTEXT (nor SSL without SASL) for clients or the controller.
    protocols = dict(pair.split(":") for pair in props["listener.security.protocol.map"].split(","))
    listeners = [entry.split("://")[0] for entry in props["listeners"].split(",")]
    assert set(listeners) == set(protocols) == {"SASL_PLAINTEXT", "CONTROLLER"}
    assert set(protocols.values()) == {"SASL_PLAINTEXT"}
    assert [entry.split("://")[0] for entry in props["advertised.listeners"].split(",")] == ["SASL_PLAINTEXT"]
    assert props["advertised.listeners"] == "SASL_PLAINTEXT://kafka:9092"
    assert props["sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert props["authorizer.class.name"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    assert props["allow.everyone.if.no.acl.found"] == "false"
    assert props["super.users"] == "User:admin"
    # The SCRAM users are written at format time: admin and each service, with the services' passwords.
    env = compose_service("kafka")["environment"]
    expected = {"admin": env_default(env[kafka_password_env("admin")])}
    expected |= {s.name: env_default(compose_service(s.k8s_name)["environment"]["KAFKA_SASL_PASSWORD"]) for s in SERVICES}
    assert format_args[0] == "format" and f"--cluster-id={env['CLUSTER_ID']}" in format_args
    scram = [format_args[i + 1] for i, a in enumerate(format_args) if a == "--add-scram"]
    assert sorted(scram) == sorted(f"SCRAM-SHA-512=[name={u},password={p}]" for u, p in expected.items())
    # The healthcheck authenticates too, as admin, with the client properties the script writes.
    check = compose_service("kafka")["healthcheck"]["test"]
    config = check[check.index("--command-config") + 1]
    assert config == "/tmp/kafka-config/admin.properties"
    client = (tmp_path / "config" / "admin.properties").read_text()
    assert "security.protocol=SASL_PLAINTEXT" in client and f'username="admin" password="{expected["admin"]}"' in client


def test_compose_kafka_start_refuses_a_missing_password(tmp_path: Path):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "CLUSTER_ID": "x", "KAFKA_SCRAM_USERS": "clm",
           "ADMIN_KAFKA_PASSWORD": "pw", "KAFKA_HOME": str(tmp_path), "KAFKA_CONFIG_DIR": str(tmp_path / "c"),
           "KAFKA_DATA_DIR": str(tmp_path / "d")}
    proc = subprocess.run(["bash", str(KAFKA_START)], env=env, capture_output=True, text=True, timeout=30)
    assert proc.returncode != 0 and "CLM_KAFKA_PASSWORD" in proc.stderr


def test_compose_kafka_scram_users_are_the_services():
    env = compose_service("kafka")["environment"]
    assert env["KAFKA_SCRAM_USERS"].split() == [s.name for s in SERVICES]


def test_compose_kafka_provision_is_one_shot_as_admin():
    prov = compose_service("kafka-provision")
    assert prov["image"] == compose_service("provision")["image"], "runs from the app image"
    assert prov["build"]["dockerfile"] == "deploy/docker/Dockerfile"
    assert prov["command"] == ["python", "-m", "services.kafka_access", "--provision"]
    assert prov["restart"] == "no"
    assert prov["depends_on"]["kafka"]["condition"] == "service_healthy"
    env = prov["environment"]
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    assert env["KAFKA_SECURITY_PROTOCOL"] == "SASL_PLAINTEXT"
    assert env["KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
    assert env["KAFKA_SASL_USERNAME"] == "admin"
    assert env["KAFKA_SASL_PASSWORD"] == compose_service("kafka")["environment"][kafka_password_env("admin")]


def test_compose_roles_are_distinct():
    roles = [urlsplit(compose_service(s.k8s_name)["environment"]["DATABASE_URL"]).username for s in SERVICES]
    assert len(set(roles)) == len(SERVICES)


def test_compose_clock_control_only_for_the_services_that_read_dates():
    for spec in SERVICES:
        env = compose_service(spec.k8s_name)["environment"]
        expected = "true" if spec.name in (SCHEDULER, "order_sync") else None
        assert env.get("ALLOW_CLOCK_CONTROL") == expected, spec.name


# --------------------------------------------------------------------------------------------
# Dockerfile
# --------------------------------------------------------------------------------------------

def test_dockerfile():
    text = DOCKERFILE.read_text()
    assert re.search(r"^FROM python:3\.11-slim\b", text, re.M)
    assert "pip install --no-cache-dir -r requirements.lock" in text
    assert re.search(r"^COPY shared/ ", text, re.M) and re.search(r"^COPY services/ ", text, re.M)
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user and user[-1].split(":")[0] not in ("0", "root"), "image must run as non-root"
    assert user[-1].split(":")[0].isdigit(), "numeric uid, so Kubernetes can check runAsNonRoot"
    assert re.search(rf"^EXPOSE {CONTAINER_PORT}$", text, re.M)


# --------------------------------------------------------------------------------------------
# Kubernetes
# --------------------------------------------------------------------------------------------

@functools.cache
def _kustomize(path: Path) -> tuple[dict, ...] | str:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        return "kubectl is not on PATH: it is required to render the manifests (`kubectl kustomize`)"
    proc = subprocess.run([kubectl, "kustomize", str(path)], capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        return f"`kubectl kustomize {path.relative_to(ROOT)}` failed:\n{proc.stderr}"
    return tuple(doc for doc in yaml.safe_load_all(proc.stdout) if doc)


def render(path: Path) -> list[dict]:
    """The objects `kubectl kustomize path` renders; fails (never skips) if that is impossible."""
    result = _kustomize(path)
    if isinstance(result, str):
        pytest.fail(result, pytrace=False)
    return list(result)


def find(objects: list[dict], kind: str, name: str) -> dict:
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name!r}, found {len(found)}"
    return found[0]


def of_kind(objects: list[dict], kind: str) -> list[dict]:
    return [o for o in objects if o["kind"] == kind]


def container_of(deployment: dict) -> dict:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def env_of(container: dict) -> dict[str, dict]:
    return {e["name"]: e for e in container.get("env", [])}


@pytest.mark.parametrize("path", [K8S_BASE, K8S_LOCAL], ids=["base", "overlay-local"])
def test_k8s_objects_validate(path: Path):
    assert K8S_VERSION in kubernetes_validate.utils.all_versions(), (
        f"kubernetes-validate {kubernetes_validate.utils.latest_version()} has no schemas for {K8S_VERSION}")
    objects = render(path)
    assert objects
    errors = []
    for obj in objects:
        try:
            kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as e:
            errors.append(f"{obj['kind']}/{obj['metadata'].get('name')}: {e.message} at {list(e.path)}")
    assert not errors, "\n".join(errors)


def test_k8s_common_labels_and_namespace():
    for obj in render(K8S_BASE):
        meta = obj["metadata"]
        assert meta.get("labels", {}).get("app.kubernetes.io/part-of") == "clm-platform", meta["name"]
        if obj["kind"] != "Namespace":
            assert meta.get("namespace") == "clm-platform", meta["name"]


@by_service
def test_k8s_deployment(spec: ServiceSpec):
    objects = render(K8S_BASE)
    dep = find(objects, "Deployment", spec.k8s_name)
    labels = {"app.kubernetes.io/name": spec.k8s_name}
    assert dep["spec"]["selector"]["matchLabels"] == labels
    pod = dep["spec"]["template"]
    assert labels.items() <= pod["metadata"]["labels"].items()
    pod_spec = pod["spec"]
    assert pod_spec["securityContext"]["runAsNonRoot"] is True
    assert pod_spec.get("terminationGracePeriodSeconds", 0) >= 10

    c = container_of(dep)
    assert c["command"] == ["python", "-m", spec.module]
    assert c["image"] == container_of(find(objects, "Deployment", SERVICES[0].k8s_name))["image"]
    ports = {p["name"]: p for p in c["ports"]}
    assert ports["http"]["containerPort"] == CONTAINER_PORT

    res = c.get("resources", {})
    for part in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(res.get(part, {})), f"resources.{part} needs cpu and memory"

    for probe, path in (("readinessProbe", READINESS_PATH), ("livenessProbe", LIVENESS_PATH)):
        get = c[probe]["httpGet"]
        assert get["path"] == path, f"{probe} must hit {path}"
        assert get["port"] == "http", f"{probe} must use the named container port"
    if "startupProbe" in c:
        assert c["startupProbe"]["httpGet"] == {"path": LIVENESS_PATH, "port": "http"}

    env = env_of(c)
    for name, key in (("DATABASE_URL", f"{spec.k8s_name}-database-url"), ("AUTH_JWT_SECRET", "auth-jwt-secret"),
                      ("KAFKA_SASL_PASSWORD", f"{spec.k8s_name}-kafka-password")):
        ref = env[name]["valueFrom"]["secretKeyRef"]
        assert (ref["name"], ref["key"]) == (SECRET_NAME, key)
    for e in c.get("env", []):
        assert "value" not in e or not SECRET_LOOKING_KEY.search(e["name"]), f"literal secret {e['name']}"

    config_refs = [s["configMapRef"]["name"] for s in c.get("envFrom", []) if "configMapRef" in s]
    assert len(config_refs) == 1
    cm = find(objects, "ConfigMap", config_refs[0])
    assert cm["metadata"]["labels"]["app.kubernetes.io/name"] == spec.k8s_name
    assert cm["data"]["PORT"] == str(CONTAINER_PORT)
    assert cm["data"].get("KAFKA_BOOTSTRAP_SERVERS")
    # Kafka: its own principal (services/kafka_access.py), over TLS in the base.
    assert cm["data"]["KAFKA_SASL_USERNAME"] == spec.name
    assert cm["data"]["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert cm["data"]["KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"


@by_service
def test_k8s_service(spec: ServiceSpec):
    objects = render(K8S_BASE)
    svc = find(objects, "Service", spec.k8s_name)
    pod_labels = find(objects, "Deployment", spec.k8s_name)["spec"]["template"]["metadata"]["labels"]
    assert svc["spec"]["selector"].items() <= pod_labels.items()
    (port,) = svc["spec"]["ports"]
    assert port["port"] == 80 and port["targetPort"] == "http"


def test_k8s_configmaps_hold_no_secrets():
    for cm in of_kind(render(K8S_BASE), "ConfigMap"):
        for key, value in (cm.get("data") or {}).items():
            assert not SECRET_LOOKING_KEY.search(key), f"ConfigMap {cm['metadata']['name']} has key {key}"
            assert not URL_WITH_PASSWORD.search(str(value)), f"ConfigMap {cm['metadata']['name']}: {key}"
    assert not of_kind(render(K8S_BASE), "Secret"), "the base ships no Secret; see deploy/README.md"


def test_k8s_scheduler_clock_control_is_off():
    objects = render(K8S_BASE)
    sched = by_name_k8s(SCHEDULER)
    c = container_of(find(objects, "Deployment", sched))
    cm_name = c["envFrom"][0]["configMapRef"]["name"]
    assert find(objects, "ConfigMap", cm_name)["data"]["ALLOW_CLOCK_CONTROL"] == "false"
    assert "ALLOW_CLOCK_CONTROL" not in env_of(c)
    # ...and no other service is given the switch at all.
    for spec in SERVICES:
        if spec.name == SCHEDULER:
            continue
        other = container_of(find(objects, "Deployment", spec.k8s_name))
        assert "ALLOW_CLOCK_CONTROL" not in env_of(other)
        for ref in other.get("envFrom", []):
            assert "ALLOW_CLOCK_CONTROL" not in find(objects, "ConfigMap", ref["configMapRef"]["name"])["data"]


def by_name_k8s(name: str) -> str:
    return next(s.k8s_name for s in SERVICES if s.name == name)


def test_k8s_provision_job():
    objects = render(K8S_BASE)
    (job,) = of_kind(objects, "Job")
    pod_spec = job["spec"]["template"]["spec"]
    assert pod_spec["restartPolicy"] in ("OnFailure", "Never")
    assert pod_spec["securityContext"]["runAsNonRoot"] is True
    c = pod_spec["containers"][0]
    assert c["command"] == ["python", "-m", "services.provision"]
    assert c["image"] == container_of(find(objects, "Deployment", SERVICES[0].k8s_name))["image"]
    assert {"requests", "limits"} <= set(c.get("resources", {}))
    env = env_of(c)
    assert env["ADMIN_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == SECRET_NAME
    for spec in SERVICES:
        ref = env[password_env(spec)]["valueFrom"]["secretKeyRef"]
        assert (ref["name"], ref["key"]) == (SECRET_NAME, f"{spec.k8s_name}-db-password")


def test_k8s_local_overlay_references_resolve():
    """In the local overlay every Secret/ConfigMap reference exists, and the URLs match the roles."""
    import base64

    objects = render(K8S_LOCAL)
    secrets = {s["metadata"]["name"]: {k: base64.b64decode(v).decode() for k, v in s.get("data", {}).items()}
               for s in of_kind(objects, "Secret")}
    config_maps = {c["metadata"]["name"] for c in of_kind(objects, "ConfigMap")}
    workloads = of_kind(objects, "Deployment") + of_kind(objects, "Job")
    for w in workloads:
        for c in w["spec"]["template"]["spec"]["containers"]:
            for e in c.get("env", []):
                ref = e.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["key"] in secrets.get(ref["name"], {}), f"{w['metadata']['name']}: {ref}"
            for s in c.get("envFrom", []):
                assert s["configMapRef"]["name"] in config_maps

    (data,) = secrets.values()
    for spec in SERVICES:
        url = urlsplit(data[f"{spec.k8s_name}-database-url"])
        assert url.scheme == "postgresql+asyncpg" and url.path == f"/{DATABASE_NAME}"
        assert url.username == spec.db_role
        assert url.password == data[f"{spec.k8s_name}-db-password"]
        assert data[f"{spec.k8s_name}-kafka-password"]
    local_configs = {c["metadata"]["labels"]["app.kubernetes.io/name"]: c["data"] for c in of_kind(objects, "ConfigMap")}
    for spec in SERVICES:
        assert local_configs[spec.k8s_name]["KAFKA_SECURITY_PROTOCOL"] == "SASL_PLAINTEXT"
        assert local_configs[spec.k8s_name]["KAFKA_SASL_USERNAME"] == spec.name


# --------------------------------------------------------------------------------------------
# The probes point at routes the services really serve
# --------------------------------------------------------------------------------------------

# Enough configuration for the app modules to import; nothing is contacted at import time.
IMPORT_ENV = {
    "DATABASE_URL": "postgresql+asyncpg://nobody:nothing@127.0.0.1:1/clm_platform",
    "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
    "AUTH_JWT_SECRET": "test-only-secret-for-import-0123456789",
    "LOG_LEVEL": "INFO",
    "PORT": str(CONTAINER_PORT),
}


def serves_get(app, path: str) -> bool:
    """Whether the app's router fully matches GET path (routers included lazily count too)."""
    from starlette.routing import Match

    scope = {"type": "http", "method": "GET", "path": path, "root_path": "", "headers": [],
             "query_string": b"", "path_params": {}}
    return any(route.matches(scope)[0] == Match.FULL for route in app.routes)


@by_service
def test_app_serves_probe_paths(spec: ServiceSpec, monkeypatch: pytest.MonkeyPatch):
    for key, value in IMPORT_ENV.items():
        monkeypatch.setenv(key, value)
    module = importlib.import_module(f"{spec.module}.main")
    app = getattr(module, "app", None)
    assert app is not None, f"{spec.module}.main has no module-level `app`"
    for path in (LIVENESS_PATH, READINESS_PATH):
        assert serves_get(app, path), f"{spec.module}.main:app serves no GET {path} (probed by compose/k8s)"
