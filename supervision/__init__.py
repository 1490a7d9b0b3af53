"""The supervision domain, free of Qt.

Working-day calendar, due dates of cases, the warning rules and their lifecycle, performance
scores, and the SQLAlchemy store (with its Alembic migrations) that holds synced records and the
terminal's own state. Everything here is importable and testable without a display.
"""
