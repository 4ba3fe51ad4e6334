"""Training programmes: learner and educator accounts with hashed passwords, classes that learners join by a
short code, educator quiz sets shared by a short code, and which set a quiz was taken from.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # learners of the first store keep their name-only history; an account adds a password hash and a role
    op.add_column("learners", sa.Column("password_hash", sa.Text))
    op.add_column("learners", sa.Column("role", sa.Text, nullable=False, server_default="learner"))
    op.create_table(
        "classes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("code", sa.Text, nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("educator_id", sa.Integer, sa.ForeignKey("learners.id"), nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
    )
    op.create_table(
        "class_members",
        sa.Column("class_id", sa.Integer, sa.ForeignKey("classes.id"), primary_key=True),
        sa.Column("learner_id", sa.Integer, sa.ForeignKey("learners.id"), primary_key=True),
        sa.Column("joined_at", sa.Text, nullable=False),
    )
    op.create_table(
        "quiz_sets",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("code", sa.Text, nullable=False, unique=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("educator_id", sa.Integer, sa.ForeignKey("learners.id"), nullable=False),
        sa.Column("settings", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Text, nullable=False),
    )
    if op.get_bind().dialect.name == "sqlite":
        # SQLite takes a REFERENCES clause on a column added with a NULL default; Alembic would copy the whole
        # table instead (batch mode), which trips the answers' foreign key to it
        op.execute("ALTER TABLE quizzes ADD COLUMN set_id INTEGER REFERENCES quiz_sets (id)")
    else:
        op.add_column(
            "quizzes", sa.Column("set_id", sa.Integer, sa.ForeignKey("quiz_sets.id", name="fk_quizzes_set_id"))
        )


def downgrade() -> None:
    with op.batch_alter_table("quizzes") as batch:
        batch.drop_column("set_id")
    op.drop_table("quiz_sets")
    op.drop_table("class_members")
    op.drop_table("classes")
    with op.batch_alter_table("learners") as batch:
        batch.drop_column("role")
        batch.drop_column("password_hash")
