"""closed teams' join requests: rejected, as closing a team now does

Before, closing a team left its join requests `pending` for ever: the officer's «Duyệt» answered «the
team has stopped» and the request stayed. Closing a team rejects them now (services/units.py); this
does the same for teams closed before. Their applicants are not told (it may be long ago).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    units = sa.table("units", sa.column("id"), sa.column("kind"), sa.column("active"))
    requests = sa.table("join_requests", sa.column("unit_id"), sa.column("status"))
    closed = sa.select(units.c.id).where(units.c.kind == "team", units.c.active.is_(False))
    op.execute(
        requests.update()
        .where(requests.c.status == "pending", requests.c.unit_id.in_(closed))
        .values(status="rejected")
    )


def downgrade() -> None:
    """Nothing to undo: which requests were pending is not kept (they are rejected either way)."""
