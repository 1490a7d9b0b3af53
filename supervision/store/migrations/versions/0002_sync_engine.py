"""sync engine: resumable full resync, rejected actions on warnings

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

``sync_state.resync`` holds why a full resync is under way (``cursor_expired`` or
``epoch_mismatch``) until its last page is applied, so a terminal killed half-way resumes it
instead of keeping records the server no longer has. ``warning_states.rejected_*`` record that
the server refused this terminal's action on a warning (e.g. ``superseded``) so the operator
sees it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from supervision.store.types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("resync", sa.String(length=20), nullable=True))
    with op.batch_alter_table("warning_states", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rejected_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("rejected_code", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("rejected_message", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("warning_states", schema=None) as batch_op:
        batch_op.drop_column("rejected_message")
        batch_op.drop_column("rejected_code")
        batch_op.drop_column("rejected_at")
    with op.batch_alter_table("sync_state", schema=None) as batch_op:
        batch_op.drop_column("resync")
