"""security: link requests wait for the owner's confirmation; why a membership ended

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 13:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = ("0009", "0003")  # 0003: link_codes
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("link_codes") as batch:
        batch.add_column(sa.Column("claimed_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite")))
        batch.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True)))
    with op.batch_alter_table("memberships") as batch:
        batch.add_column(sa.Column("ended_reason", sa.String(20)))


def downgrade() -> None:
    with op.batch_alter_table("memberships") as batch:
        batch.drop_column("ended_reason")
    with op.batch_alter_table("link_codes") as batch:
        batch.drop_column("claimed_at")
        batch.drop_column("claimed_by")
