"""dispositions keep the episode they acted on (``since``), so a requeued action carries it

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from supervision.store.types import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dispositions") as batch:
        batch.add_column(sa.Column("since", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dispositions") as batch:
        batch.drop_column("since")
