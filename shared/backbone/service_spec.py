"""What the shared mechanics need to know of a service: its name, and the schema, database role,
port and Kubernetes name that follow from it. The platform's list of services is
`services/catalogue.py`; the backbone never imports it."""

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    local_port: int
    summary: str

    @property
    def module(self) -> str:
        return f"services.{self.name}"

    @property
    def schema(self) -> str:
        return self.name

    @property
    def db_role(self) -> str:
        return f"{self.name}_svc"

    @property
    def k8s_name(self) -> str:
        return self.name.replace("_", "-")
