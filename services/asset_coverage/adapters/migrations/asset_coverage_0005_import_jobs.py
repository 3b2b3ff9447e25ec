"""asset_coverage: import jobs (spreadsheet imports) and the report rows of their refused rows.

Revision ID: asset_coverage_0005
"""

import sqlalchemy as sa
from alembic import op

revision = "asset_coverage_0005"
down_revision = "asset_coverage_0004"


def upgrade() -> None:
    op.create_table(
        "import_jobs",
        sa.Column("job_id", sa.Uuid, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("format", sa.Text, nullable=False),
        sa.Column("filename", sa.Text),
        sa.Column("file_path", sa.Text),
        sa.Column("instance", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("total_rows", sa.Integer),
        sa.Column("rows_read", sa.Integer, nullable=False),
        sa.Column("created", sa.Integer, nullable=False),
        sa.Column("updated", sa.Integer, nullable=False),
        sa.Column("unchanged", sa.Integer, nullable=False),
        sa.Column("rejected", sa.Integer, nullable=False),
        sa.Column("batches", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
    )
    op.create_index("import_jobs_by_creation", "import_jobs", ["created_at", "job_id"])
    op.create_index("import_jobs_unfinished", "import_jobs", ["state", "instance"],
                    postgresql_where=sa.text("state IN ('queued', 'running')"))
    op.create_table(
        "import_report_rows",
        sa.Column("job_id", sa.Uuid, sa.ForeignKey("import_jobs.job_id", ondelete="CASCADE"), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("row_number", sa.Integer, nullable=False),
        sa.Column("column_name", sa.Text),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("value", sa.Text),
    )
