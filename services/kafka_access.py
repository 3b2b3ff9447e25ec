"""Who may do what on Kafka: one SASL principal per service, its ACLs derived from its
ServiceDefinition, so a new topic, consumer or service changes them here by itself.

A service's principal is its name (`User:<service>`); `admin` is the super user (inter-broker and
controller traffic, topic creation up front, the tests). With `allow.everyone.if.no.acl.found=false`,
a service may:

- WRITE, DESCRIBE, CREATE and READ the topics it produces (`produces`) and the dead-letter topics of its
  consumers (`<consumer>.dead_letter.v1`): so it creates its own topics on start, nobody else's,
  and its outbox relay reads back what already arrived before a new producer sends (outbox.py);
- READ and DESCRIBE the topics its Subscriptions consume, and READ its consumer groups (a group is
  the consumer's name); the projection's rebuild uses throwaway groups `projection-rebuild-*`;
- IDEMPOTENT_WRITE on the cluster (every service produces, idempotently: at least dead letters).

Nothing else: it cannot write another service's topic nor read a topic it does not consume.
`python -m services.kafka_access` prints the list and the `kafka-acls.sh` commands that create it
on an existing cluster; `--provision` creates every topic and ACL as the admin of the `KAFKA_*`
environment (the compose file's one-shot `kafka-provision` service).
"""

import asyncio
import importlib
import os
import sys

from services.catalogue import SERVICES
from shared.backbone.kafka_acls import CLUSTER_NAME, Acl, acl_command
from shared.events.topics import dead_letter_topic

ADMIN = "admin"
# The projection's rebuild (services/projection/application/rebuild.py) names its groups so.
REBUILD_GROUP_PREFIX = {"projection": "projection-rebuild-"}


def principal(service: str) -> str:
    return f"User:{service}"


def definition(service: str):
    return importlib.import_module(f"services.{service}.main").definition


def consumers(service: str) -> list[str]:
    return [sub.name or service for sub in definition(service).subscriptions]


def produced_topics(service: str) -> list[str]:
    """The topics `service` writes: its own, and its consumers' dead letters."""
    return sorted(set(definition(service).produces) | {dead_letter_topic(c) for c in consumers(service)})


def consumed_topics(service: str) -> list[str]:
    return sorted({t for sub in definition(service).subscriptions for t in sub.topics})


def service_acls(service: str) -> list[Acl]:
    who = principal(service)
    acls = [Acl(who, "CLUSTER", CLUSTER_NAME, "IDEMPOTENT_WRITE")]
    for topic in produced_topics(service):
        acls += [Acl(who, "TOPIC", topic, op) for op in ("WRITE", "DESCRIBE", "CREATE", "READ")]
    for topic in consumed_topics(service):
        acls += [Acl(who, "TOPIC", topic, op) for op in ("READ", "DESCRIBE")]
    acls += [Acl(who, "GROUP", group, "READ") for group in consumers(service)]
    if service in REBUILD_GROUP_PREFIX:
        acls.append(Acl(who, "GROUP", REBUILD_GROUP_PREFIX[service], "READ", pattern_type="PREFIXED"))
    return sorted(set(acls))


def all_acls() -> list[Acl]:
    return [acl for spec in SERVICES for acl in service_acls(spec.name)]


def all_topics() -> list[str]:
    """Every topic the platform writes or reads: a topic read before its producer is built (clm
    reads quotes) exists up front too, so its consumer needs no metadata refresh to find it."""
    return sorted({t for spec in SERVICES for t in (*produced_topics(spec.name), *consumed_topics(spec.name))})


async def provision(admin_access, partitions: int = 3, replication: int = 1) -> None:
    """With the admin principal: every topic created up front, every service's ACLs."""
    from shared.backbone.kafka import ensure_topics
    from shared.backbone.kafka_acls import create_acls

    await ensure_topics(admin_access, all_topics(), partitions, replication)
    await create_acls(admin_access, all_acls())


def admin_access_from_env(env=os.environ):
    """The admin's connection from KAFKA_BOOTSTRAP_SERVERS, KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_* (as
    a service reads them) and KAFKA_SSL_CAFILE."""
    from shared.backbone.kafka import KafkaAccess

    return KafkaAccess(env["KAFKA_BOOTSTRAP_SERVERS"], env.get("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT"),
                       env.get("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"), env.get("KAFKA_SASL_USERNAME") or None,
                       env.get("KAFKA_SASL_PASSWORD") or None, env.get("KAFKA_SSL_CAFILE") or None)


def main(argv: list[str]) -> int:
    """`python -m services.kafka_access [--commands | --provision]`: the ACLs, the kafka-acls.sh
    lines, or every topic and ACL created with the admin of the environment."""
    acls = all_acls()
    if "--provision" in argv:
        if not os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
            print("KAFKA_BOOTSTRAP_SERVERS is required (and KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_* of the admin)",
                  file=sys.stderr)
            return 2
        asyncio.run(provision(admin_access_from_env()))
        print(f"provisioned kafka: {len(all_topics())} topics, {len(acls)} ACLs")
        return 0
    if "--commands" in argv:
        print("# admin.properties: security.protocol=SASL_SSL, sasl.mechanism=SCRAM-SHA-512 and the admin's sasl.jaas.config")
        print("\n".join(acl_command(acls)))
    else:
        print("\n".join(str(acl) for acl in acls))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
