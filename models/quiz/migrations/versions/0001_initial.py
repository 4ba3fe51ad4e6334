"""The first quiz store: learners, quizzes and answers (the schema PhenoFace's SQLite file had as
``PRAGMA user_version = 1``, which `models.quiz.store` adopts by stamping it with this revision).

Revision ID: 0001
Revises:
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "learners",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
    )
    # one learner per name, whatever its case (as SQLite's COLLATE NOCASE did)
    op.create_index("ix_learners_name_lower", "learners", [sa.text("lower(name)")], unique=True)
    op.create_table(
        "quizzes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("learner_id", sa.Integer, sa.ForeignKey("learners.id"), nullable=False),
        sa.Column("started_at", sa.Text, nullable=False),
        sa.Column("finished_at", sa.Text),
        sa.Column("settings", sa.Text, nullable=False),
    )
    op.create_table(
        "answers",
        sa.Column("quiz_id", sa.Integer, sa.ForeignKey("quizzes.id"), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("mode", sa.Text, nullable=False),
        sa.Column("syndrome", sa.Text, nullable=False),
        sa.Column("seed", sa.BigInteger, nullable=False),
        sa.Column("age", sa.Float, nullable=False),
        sa.Column("sex", sa.Text, nullable=False),
        sa.Column("skin_tone", sa.Integer, nullable=False),
        sa.Column("intensity", sa.Float, nullable=False),
        sa.Column("generator", sa.Text, nullable=False),
        sa.Column("choices", sa.Text, nullable=False),
        sa.Column("correct_answer", sa.Text, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("correct", sa.Integer, nullable=False),
        sa.Column("confidence", sa.Integer, nullable=False),
        sa.Column("answered_at", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("answers")
    op.drop_table("quizzes")
    op.drop_index("ix_learners_name_lower", table_name="learners")
    op.drop_table("learners")
