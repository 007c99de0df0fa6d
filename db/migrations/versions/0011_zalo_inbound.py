"""zalo_inbound: raw Zalo webhook events, stored before the 200 and processed afterwards

Revision ID: 0011
Revises: 0009
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "zalo_inbound",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("chat_id", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_zalo_inbound")),
    )
    op.create_index(op.f("ix_zalo_inbound_done_at"), "zalo_inbound", ["done_at"], unique=False)
    op.create_index(
        "ix_zalo_inbound_chat", "zalo_inbound", ["channel", "chat_id", "received_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_zalo_inbound_chat", table_name="zalo_inbound")
    op.drop_index(op.f("ix_zalo_inbound_done_at"), table_name="zalo_inbound")
    op.drop_table("zalo_inbound")
