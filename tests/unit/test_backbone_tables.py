"""Every service's first revision creates the backbone tables from shared/backbone/tables.py, so
a change there would change what that revision creates on a new database while the databases that
already ran it keep the old tables. This pins the SQL the revision runs."""

import hashlib
import io

from alembic.migration import MigrationContext
from alembic.operations import Operations

from shared.backbone.migrations import create_backbone_tables

# sha256 of the SQL below; read the assertion's message before changing it.
FIRST_REVISION_SQL_SHA256 = "1a6fd7bb61d6fa4fab67fdffc73f9aaed8d62dd7d3061f73b8752751d11610d0"


def _first_revision_sql() -> str:
    """What create_backbone_tables runs, rendered by Alembic's offline (--sql) mode."""
    out = io.StringIO()
    context = MigrationContext.configure(dialect_name="postgresql", opts={"as_sql": True, "output_buffer": out})
    with Operations.context(context):
        create_backbone_tables()
    return out.getvalue()


def test_the_first_revision_still_creates_the_backbone_tables_it_always_did():
    sql = _first_revision_sql()
    assert hashlib.sha256(sql.encode()).hexdigest() == FIRST_REVISION_SQL_SHA256, (
        f"create_backbone_tables, every service's first revision, now runs:\n{sql}\n"
        "Databases that ran it before have the tables it created then: make the change in a new revision,"
        " as shared/backbone/tables.py says. Update the digest only when the SQL changed and the tables"
        " it creates did not (a newer SQLAlchemy renders the same DDL differently)."
    )
