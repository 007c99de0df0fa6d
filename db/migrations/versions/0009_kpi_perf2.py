"""kpi performance 2: open dossiers by unit; finished_at index without the open rows

`finished_at IS NULL` (open dossiers) now has its own small partial index per unit, and the
finished_at index leaves open rows out: SQLite otherwise reads every open dossier of the country
through it (its statistics see one row per key), whatever subtree is asked.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_kpi_dossiers_finished_at", table_name="dossiers")
    op.create_index(
        "ix_kpi_dossiers_finished",
        "dossiers",
        ["finished_at"],
        postgresql_where=sa.text("finished_at IS NOT NULL"),
        sqlite_where=sa.text("finished_at IS NOT NULL"),
    )
    op.create_index(
        "ix_kpi_dossiers_open",
        "dossiers",
        ["unit_id", "due_at"],
        postgresql_where=sa.text("finished_at IS NULL"),
        sqlite_where=sa.text("finished_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_kpi_dossiers_open", table_name="dossiers")
    op.drop_index("ix_kpi_dossiers_finished", table_name="dossiers")
    op.create_index("ix_kpi_dossiers_finished_at", "dossiers", ["finished_at"])
