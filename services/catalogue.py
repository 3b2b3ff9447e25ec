"""The services of the platform: one place that names them, their schema and local port.

Read by the local launcher, database provisioning (`services/provision.py`) and the deployment
tests, so a new service is added here once.
"""

from shared.backbone.service_spec import ServiceSpec

SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("clm", 8001, "Contracting: draft, approve, sign, activate contracts"),
    ServiceSpec("asset_coverage", 8002, "Operations: link contracts to assets, prove coverage"),
    ServiceSpec("order_sync", 8003, "Commerce: orders, service contracts, entitlements"),
    ServiceSpec("lifecycle_scheduler", 8004, "Time: durable timers that activate and expire"),
    ServiceSpec("projection", 8005, "The shared contract read model everyone opens"),
)

DATABASE_NAME = "clm_platform"


def by_name(name: str) -> ServiceSpec:
    for spec in SERVICES:
        if spec.name == name:
            return spec
    raise KeyError(name)
