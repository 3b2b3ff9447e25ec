"""Each service's database role reaches its own schema and nothing else."""

import asyncpg
import pytest

from services.catalogue import SERVICES
from services.provision import service_database_url
from tests.stack import TEST_PASSWORDS

pytestmark = pytest.mark.integration


def _dsn(stack, spec) -> str:
    return service_database_url(stack.admin_url, spec, TEST_PASSWORDS[spec.name]).replace("+asyncpg", "")


@pytest.mark.parametrize("spec", SERVICES, ids=lambda s: s.name)
async def test_role_owns_its_schema_and_cannot_touch_another(stack, spec):
    other = next(s for s in SERVICES if s is not spec)
    conn = await asyncpg.connect(_dsn(stack, spec))
    try:
        await conn.execute(f"CREATE TABLE IF NOT EXISTS {spec.schema}.isolation_probe (id int)")
        await conn.execute(f"DROP TABLE {spec.schema}.isolation_probe")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(f"CREATE TABLE {other.schema}.intruder (id int)")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.fetch(f"SELECT * FROM {other.schema}.events")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("CREATE TABLE public.intruder (id int)")
    finally:
        await conn.close()


async def test_wrong_password_is_refused(stack):
    spec = SERVICES[0]
    dsn = service_database_url(stack.admin_url, spec, "not-the-password").replace("+asyncpg", "")
    with pytest.raises(asyncpg.InvalidPasswordError):
        await asyncpg.connect(dsn)
