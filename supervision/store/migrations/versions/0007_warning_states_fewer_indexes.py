"""warning_states: drop the indexes no query uses (``state``, ``window_id``)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07

No query of the terminal filters ``warning_states`` by its ``window_id``, and those on ``state``
ask for ``state != 'cleared'``, which no index serves (SQLite scans the table for them:
``EXPLAIN QUERY PLAN``). Each index was one more B-tree to write for every row the warning monitor
inserts and for every acknowledgement, disposal or clearing. Measured, the gain is small: the
pass after a 1 000-change page of ``benchmarks.monitor_bench`` dirtied ~1 490 pages instead of
~1 520 (the rows' own pages and the primary key's are most of them). ``subject`` (a case's
warnings, and the rows of the subjects a pass re-judges) and the primary key stay.
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_warning_states_state", table_name="warning_states")
    op.drop_index("ix_warning_states_window_id", table_name="warning_states")


def downgrade() -> None:
    op.create_index("ix_warning_states_window_id", "warning_states", ["window_id"])
    op.create_index("ix_warning_states_state", "warning_states", ["state"])
