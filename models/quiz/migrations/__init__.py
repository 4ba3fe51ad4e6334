"""Alembic migrations of the quiz store (`models.quiz.store` runs them; no alembic.ini needed)."""
