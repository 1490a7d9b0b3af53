"""cases: due dates and worst warning level kept by the warning monitor

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06

``cases.promised_due`` and ``cases.legal_due`` (hall dates, as of now: a paused case's dates move
with the days of its open suspension) and ``cases.worst_level`` (0 none, 1 notice, 2 yellow,
3 red: the worst level of the case's warnings in force now), each indexed so that the cases table
sorts and filters on them. The warning monitor fills them on its first pass and keeps them
current; sync never writes them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("promised_due", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("legal_due", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("worst_level", sa.SmallInteger(), nullable=False, server_default="0"))
        batch_op.create_index("ix_cases_promised_due", ["promised_due"])
        batch_op.create_index("ix_cases_legal_due", ["legal_due"])
        batch_op.create_index("ix_cases_worst_level", ["worst_level"])


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_worst_level")
        batch_op.drop_index("ix_cases_legal_due")
        batch_op.drop_index("ix_cases_promised_due")
        batch_op.drop_column("worst_level")
        batch_op.drop_column("legal_due")
        batch_op.drop_column("promised_due")
