"""kpi performance: dossiers (unit_id, finished_at) for overdue counts

Revision ID: 0008
Revises: 0004
Create Date: 2026-11-22 03:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_kpi_dossiers_unit_finished", "dossiers", ["unit_id", "finished_at"])


def downgrade() -> None:
    op.drop_index("ix_kpi_dossiers_unit_finished", table_name="dossiers")
