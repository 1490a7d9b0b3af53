"""first schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from supervision.store.types import DecimalText, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)

    op.create_table(
        "bookmarks",
        sa.Column("camera_id", sa.String(length=200), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("by", sa.String(length=200), nullable=True),
        sa.Column("terminal", sa.String(length=200), nullable=True),
        sa.Column("origin", sa.String(length=10), server_default="synced", nullable=False),
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("bookmarks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bookmarks_camera_id"), ["camera_id"], unique=False)

    op.create_table(
        "calendars",
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("holidays", sa.JSON(), nullable=True),
        sa.Column("workdays", sa.JSON(), nullable=True),
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "cameras",
        sa.Column("hall_id", sa.String(length=200), nullable=True),
        sa.Column("window_id", sa.String(length=200), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("stream_url", sa.Text(), nullable=True),
        sa.Column("sub_stream_url", sa.Text(), nullable=True),
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cameras_hall_id"), ["hall_id"], unique=False)

    op.create_table(
        "case_types",
        sa.Column("code", sa.String(length=200), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("department", sa.String(length=200), nullable=True),
        sa.Column("legal_days", sa.Integer(), nullable=True),
        sa.Column("promised_days", sa.Integer(), nullable=True),
        sa.Column("stage_days", sa.JSON(), nullable=True),
        sa.Column("fee", DecimalText(), nullable=True),
        sa.Column("immediate", sa.Boolean(), nullable=True),
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "cases",
        sa.Column("case_type_id", sa.String(length=200), nullable=True),
        sa.Column("window_id", sa.String(length=200), nullable=True),
        sa.Column("ticket_id", sa.String(length=200), nullable=True),
        sa.Column("applicant", sa.String(length=200), nullable=True),
        sa.Column("submitted_at", UTCDateTime(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=True),
        sa.Column("stages", sa.JSON(), nullable=True),
        sa.Column("suspensions", sa.JSON(), nullable=True),
        sa.Column("fee_charged", DecimalText(), nullable=True),
        sa.Column("completed_at", UTCDateTime(), nullable=True),
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cases_case_type_id"), ["case_type_id"], unique=False)
        batch_op.create_index("ix_cases_open", ["status", "deleted"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_window_id"), ["window_id"], unique=False)

    op.create_table(
        "complaints",
        sa.Column("hall_id", sa.String(length=200), nullable=True),
        sa.Column("window_id", sa.String(length=200), nullable=True),
        sa.Column("case_id", sa.String(length=200), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=True),
        sa.Column("received_at", UTCDateTime(), nullable=True),
        sa.Column("about_at", UTCDateTime(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=True),
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_complaints_hall_id"), ["hall_id"], unique=False)

    op.create_table(
        "dispositions",
        sa.Column("warning", sa.String(length=300), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=True),
        sa.Column("measure", sa.String(length=20), nullable=True),
        sa.Column("by", sa.String(length=200), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("terminal", sa.String(length=200), nullable=True),
        sa.Column("origin", sa.String(length=10), server_default="synced", nullable=False),
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dispositions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dispositions_warning"), ["warning"], unique=False)
        batch_op.create_index("ix_dispositions_warning_at", ["warning", "at"], unique=False)

    op.create_table(
        "evaluations",
        sa.Column("window_id", sa.String(length=200), nullable=True),
        sa.Column("case_id", sa.String(length=200), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=True),
        sa.Column("grade", sa.Integer(), nullable=True),
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evaluations_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_evaluations_window_id"), ["window_id"], unique=False)

    op.create_table(
        "org_units",
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("parent_id", sa.String(length=200), nullable=True),
        sa.Column("level", sa.String(length=20), nullable=True),
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("org_units", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_org_units_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_created_at"), ["created_at"], unique=False)

    op.create_table(
        "rule_sets",
        sa.Column("rules", sa.JSON(), nullable=True),
        sa.Column("weights", sa.JSON(), nullable=True),
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "seat_vacancies",
        sa.Column("window_id", sa.String(length=200), nullable=True),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("seat_vacancies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_seat_vacancies_window_id"), ["window_id"], unique=False)

    op.create_table(
        "sync_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("epoch", sa.String(length=200), nullable=True),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("last_success_at", UTCDateTime(), nullable=True),
        sa.Column("offline_since", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "terminals",
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("role", sa.String(length=20), nullable=True),
        sa.Column("relay_url", sa.Text(), nullable=True),
        sa.Column("last_seen", UTCDateTime(), nullable=True),
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "tickets",
        sa.Column("hall_id", sa.String(length=200), nullable=True),
        sa.Column("number", sa.String(length=200), nullable=True),
        sa.Column("case_type_id", sa.String(length=200), nullable=True),
        sa.Column("issued_at", UTCDateTime(), nullable=True),
        sa.Column("called_at", UTCDateTime(), nullable=True),
        sa.Column("window_id", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=True),
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tickets_hall_id"), ["hall_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_tickets_issued_at"), ["issued_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_tickets_status"), ["status"], unique=False)

    op.create_table(
        "warning_states",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("window_id", sa.String(length=200), nullable=True),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("max_level", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("since", UTCDateTime(), nullable=False),
        sa.Column("red_since", UTCDateTime(), nullable=True),
        sa.Column("acknowledged_at", UTCDateTime(), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=200), nullable=True),
        sa.Column("disposed_at", UTCDateTime(), nullable=True),
        sa.Column("disposed_by", sa.String(length=200), nullable=True),
        sa.Column("measure", sa.String(length=20), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("cleared_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("warning_states", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_warning_states_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_warning_states_subject"), ["subject"], unique=False)
        batch_op.create_index(batch_op.f("ix_warning_states_window_id"), ["window_id"], unique=False)

    op.create_table(
        "windows",
        sa.Column("hall_id", sa.String(length=200), nullable=True),
        sa.Column("number", sa.String(length=200), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("department", sa.String(length=200), nullable=True),
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("windows", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_windows_hall_id"), ["hall_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("windows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_windows_hall_id"))

    op.drop_table("windows")
    with op.batch_alter_table("warning_states", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_warning_states_window_id"))
        batch_op.drop_index(batch_op.f("ix_warning_states_subject"))
        batch_op.drop_index(batch_op.f("ix_warning_states_state"))

    op.drop_table("warning_states")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tickets_status"))
        batch_op.drop_index(batch_op.f("ix_tickets_issued_at"))
        batch_op.drop_index(batch_op.f("ix_tickets_hall_id"))

    op.drop_table("tickets")
    op.drop_table("terminals")
    op.drop_table("sync_state")
    with op.batch_alter_table("seat_vacancies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_seat_vacancies_window_id"))

    op.drop_table("seat_vacancies")
    op.drop_table("rule_sets")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_created_at"))

    op.drop_table("outbox")
    with op.batch_alter_table("org_units", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_org_units_parent_id"))

    op.drop_table("org_units")
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluations_window_id"))
        batch_op.drop_index(batch_op.f("ix_evaluations_at"))

    op.drop_table("evaluations")
    with op.batch_alter_table("dispositions", schema=None) as batch_op:
        batch_op.drop_index("ix_dispositions_warning_at")
        batch_op.drop_index(batch_op.f("ix_dispositions_warning"))

    op.drop_table("dispositions")
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaints_hall_id"))

    op.drop_table("complaints")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_window_id"))
        batch_op.drop_index(batch_op.f("ix_cases_status"))
        batch_op.drop_index("ix_cases_open")
        batch_op.drop_index(batch_op.f("ix_cases_case_type_id"))

    op.drop_table("cases")
    op.drop_table("case_types")
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cameras_hall_id"))

    op.drop_table("cameras")
    op.drop_table("calendars")
    with op.batch_alter_table("bookmarks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bookmarks_camera_id"))

    op.drop_table("bookmarks")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))

    op.drop_table("audit_log")
