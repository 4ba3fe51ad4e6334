"""Alembic revisions of the quiz store, oldest first."""
