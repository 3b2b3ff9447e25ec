"""Creates the platform database, one login role and one schema per service. Idempotent.

Each role owns its schema and nothing else: it cannot use another service's schema, and the
`public` schema is closed to everyone. Run once per environment (and on every `make run`) with a
superuser DSN: `ADMIN_DATABASE_URL=... python -m services.provision`. Passwords come from
`<SERVICE>_DB_PASSWORD`, e.g. CLM_DB_PASSWORD.
"""

import asyncio
import os
import sys
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from services.catalogue import DATABASE_NAME, SERVICES
from shared.backbone.service_spec import ServiceSpec


def password_env(spec: ServiceSpec) -> str:
    return f"{spec.name.upper()}_DB_PASSWORD"


def service_database_url(admin_url: str, spec: ServiceSpec, password: str) -> str:
    """The DSN a service uses: same host and port as the admin DSN, the service's own role."""
    parts = urlsplit(admin_url)
    netloc = f"{spec.db_role}:{password}@{parts.hostname}:{parts.port or 5432}"
    return urlunsplit(("postgresql+asyncpg", netloc, f"/{DATABASE_NAME}", "", ""))


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url.replace("postgresql+asyncpg://", "postgresql://"))
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, ""))


# A rebuild beside the live read model replays into the first and moves the replaced tables into
# the second (services/projection/application/blue_green.py): the role owns them as its own.
SPARE_SCHEMAS = {"projection": ("projection_next", "projection_old")}


async def provision(admin_url: str, passwords: dict[str, str]) -> None:
    admin = await asyncpg.connect(_with_database(admin_url, "postgres"))
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE_NAME):
            await admin.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
        for spec in SERVICES:
            exists = await admin.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", spec.db_role)
            verb = "ALTER" if exists else "CREATE"
            statement = await admin.fetchval(
                f"SELECT format('{verb} ROLE %I WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L', $1::text, $2::text)",
                spec.db_role, passwords[spec.name],
            )
            await admin.execute(statement)
    finally:
        await admin.close()

    db = await asyncpg.connect(_with_database(admin_url, DATABASE_NAME))
    try:
        await db.execute(f'REVOKE ALL ON DATABASE "{DATABASE_NAME}" FROM PUBLIC')
        await db.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
        for spec in SERVICES:
            await db.execute(f'GRANT CONNECT ON DATABASE "{DATABASE_NAME}" TO "{spec.db_role}"')
            for schema in (spec.schema, *SPARE_SCHEMAS.get(spec.name, ())):
                await db.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}" AUTHORIZATION "{spec.db_role}"')
                await db.execute(f'REVOKE ALL ON SCHEMA "{schema}" FROM PUBLIC')
            await db.execute(f'ALTER ROLE "{spec.db_role}" IN DATABASE "{DATABASE_NAME}" SET search_path = "{spec.schema}"')
    finally:
        await db.close()


def main() -> int:
    admin_url = os.environ.get("ADMIN_DATABASE_URL")
    if not admin_url:
        print("ADMIN_DATABASE_URL is required", file=sys.stderr)
        return 2
    missing = [password_env(s) for s in SERVICES if not os.environ.get(password_env(s))]
    if missing:
        print(f"missing password variables: {', '.join(missing)}", file=sys.stderr)
        return 2
    asyncio.run(provision(admin_url, {s.name: os.environ[password_env(s)] for s in SERVICES}))
    print(f"provisioned database {DATABASE_NAME}: " + ", ".join(f"{s.schema} ({s.db_role})" for s in SERVICES))
    return 0


if __name__ == "__main__":
    sys.exit(main())
