"""kpi targets, job runs and KPI indexes

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-22 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "kpi_targets",
        sa.Column("id", BigId, nullable=False),
        sa.Column("unit_id", BigId, nullable=False),
        sa.Column("indicator", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("target", sa.Float(), nullable=False),
        sa.Column("set_by", BigId, nullable=True),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["set_by"], ["people.id"], name=op.f("fk_kpi_targets_set_by_people"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_kpi_targets_unit_id_units"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kpi_targets")),
        sa.UniqueConstraint(
            "unit_id", "indicator", "period", name=op.f("uq_kpi_targets_unit_id_indicator_period")
        ),
    )
    op.create_table(
        "job_runs",
        sa.Column("id", BigId, nullable=False),
        sa.Column("job", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=40), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
        sa.UniqueConstraint("job", "period", name=op.f("uq_job_runs_job_period")),
    )
    op.create_index("ix_kpi_dossiers_received_at", "dossiers", ["received_at"])
    op.create_index("ix_kpi_dossiers_finished_at", "dossiers", ["finished_at"])
    op.create_index("ix_kpi_help_sessions_occurred_at", "help_sessions", ["occurred_at"])
    op.create_index(
        "ix_kpi_units_path_pattern", "units", ["path"], postgresql_ops={"path": "varchar_pattern_ops"}
    )


def downgrade() -> None:
    op.drop_index("ix_kpi_units_path_pattern", table_name="units")
    op.drop_index("ix_kpi_help_sessions_occurred_at", table_name="help_sessions")
    op.drop_index("ix_kpi_dossiers_finished_at", table_name="dossiers")
    op.drop_index("ix_kpi_dossiers_received_at", table_name="dossiers")
    op.drop_table("job_runs")
    op.drop_table("kpi_targets")
