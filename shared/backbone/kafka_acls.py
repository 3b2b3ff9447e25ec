"""Kafka ACLs: what one is, how to create them with the admin principal, how to print them.

aiokafka 0.14 has no create_acls, and its CreateAcls request stops at version 1, which Kafka 4
no longer accepts (KIP-896): versions 2 and 3 (flexible) are declared here on its protocol types.
Creating an ACL that exists already is a no-op, so `create_acls` may run on every start.
Which ACLs the platform needs follows from its services: `services/kafka_access.py`.
"""

from dataclasses import dataclass

from aiokafka.errors import for_code
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import CompactArray, CompactString, Int8, Int16, Int32, Schema, TaggedFields

from shared.backbone.kafka import KafkaAccess, admin_client

RESOURCE_TYPES = {"TOPIC": 2, "GROUP": 3, "CLUSTER": 4}
PATTERN_TYPES = {"LITERAL": 3, "PREFIXED": 4}
OPERATIONS = {"READ": 3, "WRITE": 4, "CREATE": 5, "DESCRIBE": 8, "IDEMPOTENT_WRITE": 12}
ALLOW = 3
CLUSTER_NAME = "kafka-cluster"


@dataclass(frozen=True, order=True)
class Acl:
    """ALLOW `operation` on a resource to `principal` ("User:<name>"), from any host."""

    principal: str
    resource_type: str  # TOPIC, GROUP or CLUSTER
    resource_name: str
    operation: str
    pattern_type: str = "LITERAL"  # or PREFIXED: every resource whose name begins with resource_name

    def __str__(self) -> str:
        pattern = "prefixed " if self.pattern_type == "PREFIXED" else ""
        return f"{self.principal} ALLOW {self.operation} on {pattern}{self.resource_type} {self.resource_name}"


def acl_command(acls: list[Acl], bootstrap: str = "$KAFKA_BOOTSTRAP_SERVERS", config: str = "admin.properties") -> list[str]:
    """The same ACLs as `kafka-acls.sh` command lines, one per principal and resource."""
    grouped: dict[tuple, list[str]] = {}
    for acl in sorted(acls):
        grouped.setdefault((acl.principal, acl.resource_type, acl.resource_name, acl.pattern_type), []).append(acl.operation)
    lines = []
    for (principal, kind, name, pattern), operations in grouped.items():
        resource = {"TOPIC": f"--topic {name}", "GROUP": f"--group {name}", "CLUSTER": "--cluster"}[kind]
        if pattern == "PREFIXED":
            resource += " --resource-pattern-type prefixed"
        ops = " ".join(f"--operation {''.join(w.title() for w in o.split('_'))}" for o in operations)
        lines.append(f"kafka-acls.sh --bootstrap-server {bootstrap} --command-config {config} "
                     f"--add --allow-principal {principal} {ops} {resource}")
    return lines


class _CreateAclsResponse_v2(Response):
    API_KEY = 30
    API_VERSION = 2
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        ("results", CompactArray(("error_code", Int16), ("error_message", CompactString("utf-8")), ("tags", TaggedFields))),
        ("tags", TaggedFields),
    )


class _CreateAclsResponse_v3(Response):
    API_KEY = 30
    API_VERSION = 3
    SCHEMA = _CreateAclsResponse_v2.SCHEMA


class _CreateAclsRequest_v2(RequestStruct):
    API_KEY = 30
    API_VERSION = 2
    FLEXIBLE_VERSION = True
    RESPONSE_TYPE = _CreateAclsResponse_v2
    SCHEMA = Schema(
        ("creations", CompactArray(
            ("resource_type", Int8), ("resource_name", CompactString("utf-8")), ("resource_pattern_type", Int8),
            ("principal", CompactString("utf-8")), ("host", CompactString("utf-8")), ("operation", Int8),
            ("permission_type", Int8), ("tags", TaggedFields),
        )),
        ("tags", TaggedFields),
    )


class _CreateAclsRequest_v3(RequestStruct):
    API_KEY = 30
    API_VERSION = 3
    FLEXIBLE_VERSION = True
    RESPONSE_TYPE = _CreateAclsResponse_v3
    SCHEMA = _CreateAclsRequest_v2.SCHEMA


class _CreateAcls(Request[_CreateAclsRequest_v2 | _CreateAclsRequest_v3]):
    API_KEY = 30

    def __init__(self, acls: list[Acl]):
        self._acls = acls

    def build(self, request_struct_class):
        return request_struct_class(
            [(RESOURCE_TYPES[a.resource_type], a.resource_name, PATTERN_TYPES[a.pattern_type], a.principal, "*",
              OPERATIONS[a.operation], ALLOW, {}) for a in self._acls],
            {},
        )


async def create_acls(admin_access: KafkaAccess, acls: list[Acl]) -> None:
    """Creates `acls` with a principal allowed to alter them (a super user); raises on a refusal."""
    admin = admin_client(admin_access, request_timeout_ms=15000)
    await admin.start()
    try:
        response = await admin._send_to_controller(_CreateAcls(acls))  # aiokafka has no public call for it
    finally:
        await admin.close()
    for acl, (error_code, message, _tags) in zip(acls, response.results):
        if error_code:
            raise for_code(error_code)(f"could not create ACL {acl}: {message}")
