"""Each service's migrations create exactly the tables its code uses
(`services/<name>/adapters/tables.py`), checked on a fresh schema migrated to head:

- Alembic's autogenerate compares it with the code's MetaData: a table, column, type,
  nullability, server default, primary key, unique constraint, foreign key or index (its name and
  columns) that one side has and the other not is a difference;
- what autogenerate leaves out is read from the catalogs and compared with a second fresh schema
  where the code's MetaData created the tables: index definitions (method, predicate of a partial
  index), every constraint's definition (CHECK ones too), storage parameters and sequences.
"""

import importlib
from pprint import pformat

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from services.catalogue import SERVICES
from tests.conftest import migrated_schema

pytestmark = pytest.mark.integration

_CATALOG = {
    "indexes": "SELECT tablename, indexname, replace(indexdef, current_schema() || '.', '') FROM pg_indexes"
               " WHERE schemaname = current_schema()",
    "constraints": "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
                   " WHERE connamespace = current_schema()::regnamespace",
    "storage": "SELECT relname, array_to_string(reloptions, ', ') FROM pg_class WHERE relnamespace = current_schema()::regnamespace"
               " AND relkind = 'r'",
    "sequences": "SELECT sequencename, data_type::text, start_value, increment_by FROM pg_sequences"
                 " WHERE schemaname = current_schema()",
}


def _service(spec):
    """Where its revisions are, and the MetaData objects of the tables its code uses."""
    versions_dir = importlib.import_module(f"{spec.module}.main").definition.versions_dir
    return versions_dir, importlib.import_module(f"{spec.module}.adapters.tables").metadata


def _differences(sync_conn, metadata) -> list:
    context = MigrationContext.configure(sync_conn, opts={"compare_type": True, "compare_server_default": True})
    return compare_metadata(context, metadata)


async def _catalog(engine) -> dict[str, set[tuple]]:
    async with engine.connect() as conn:
        found = {kind: set(map(tuple, await conn.execute(sa.text(query)))) for kind, query in _CATALOG.items()}
    # Alembic's own table: only the migrated schema has it.
    return {kind: {row for row in rows if "alembic_version" not in row} for kind, rows in found.items()}


@pytest.mark.parametrize("spec", SERVICES, ids=lambda s: s.name)
async def test_autogenerate_finds_nothing_between_the_migrations_and_the_code(stack, spec):
    versions_dir, metadata = _service(spec)
    async with migrated_schema(stack, versions_dir, f"migrated_{spec.name}") as engine:
        async with engine.connect() as conn:
            differences = await conn.run_sync(_differences, metadata)
    assert differences == [], pformat(differences)


@pytest.mark.parametrize("spec", SERVICES, ids=lambda s: s.name)
async def test_indexes_constraints_storage_and_sequences_are_those_of_the_code(stack, spec):
    versions_dir, metadata = _service(spec)
    async with migrated_schema(stack, versions_dir, f"migrated_{spec.name}") as engine:
        migrated = await _catalog(engine)
    async with migrated_schema(stack, None, f"code_{spec.name}") as engine:
        async with engine.begin() as conn:
            for m in metadata:
                await conn.run_sync(m.create_all)
        created = await _catalog(engine)
    differences = {
        kind: {"migrations only": sorted(migrated[kind] - created[kind]), "code only": sorted(created[kind] - migrated[kind])}
        for kind in _CATALOG if migrated[kind] != created[kind]
    }
    assert differences == {}, pformat(differences, width=120)
