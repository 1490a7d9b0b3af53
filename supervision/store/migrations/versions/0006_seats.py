"""seats: seat regions per camera, this terminal's own vacancies, ``seat_vacancies.camera_id``

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06

``seat_regions``: a window's staff seat as one camera sees it (fractions of the picture), drawn on
the tile. ``own_vacancies``: the vacancies this terminal's analytics saw — the camera, the last
judged frame while open (a restart after a crash closes it there), the JPEG snapshot of the
moment. ``seat_vacancies`` gains the protocol's ``camera_id`` and an ``origin`` (``local`` until
the server sends this terminal's report back).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from supervision.store.types import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("seat_vacancies") as batch:
        batch.add_column(sa.Column("camera_id", sa.String(200), nullable=True))
        batch.add_column(sa.Column("origin", sa.String(10), nullable=False, server_default="synced"))
    op.create_table(
        "seat_regions",
        sa.Column("camera_id", sa.String(200), nullable=False),
        sa.Column("window_id", sa.String(200), nullable=False),
        sa.Column("x", sa.Float(), nullable=False),
        sa.Column("y", sa.Float(), nullable=False),
        sa.Column("w", sa.Float(), nullable=False),
        sa.Column("h", sa.Float(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("camera_id", "window_id"),
    )
    op.create_table(
        "own_vacancies",
        sa.Column("id", sa.String(200), nullable=False),
        sa.Column("camera_id", sa.String(200), nullable=False),
        sa.Column("window_id", sa.String(200), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("judged_at", UTCDateTime(), nullable=True),
        sa.Column("snapshot", sa.Text(), nullable=True),
        sa.Column("closed_by", sa.String(20), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("own_vacancies") as batch:
        batch.create_index("ix_own_vacancies_camera_id", ["camera_id"])
        batch.create_index("ix_own_vacancies_open", ["ended_at"])


def downgrade() -> None:
    op.drop_table("own_vacancies")
    op.drop_table("seat_regions")
    with op.batch_alter_table("seat_vacancies") as batch:
        batch.drop_column("origin")
        batch.drop_column("camera_id")
