"""training (培训考核): question banks on knowledge articles, quizzes, assignments, attempts

training_questions: single / multiple choice and true/false questions about one knowledge
article, with the article version they were written against (a newer version means review).
training_quizzes and training_quiz_questions: a quiz and its questions in order.
training_assignments: a quiz assigned to one agent or to a team (exactly one of them).
training_attempts: each submitted attempt with its score and the answers as asked; the
desk's attempt key makes a repeated submission keep one row.

Revision ID: 0710_training
Revises: 0730_callback_windows
Create Date: 2026-12-03 13:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0710_training"
down_revision = "0730_callback_windows"
branch_labels = None
# The questions refer to knowledge_articles, made on the work-order branch.
depends_on = ("0200_workorders",)


def upgrade() -> None:
    op.create_table(
        "training_quizzes",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("pass_score", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_quizzes")),
    )
    op.create_table(
        "training_questions",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("article_id", sa.BigInteger(), nullable=False),
        sa.Column("article_version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("answer", sa.JSON(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["knowledge_articles.id"],
            name=op.f("fk_training_questions_article_id_knowledge_articles"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_questions")),
    )
    op.create_index(
        op.f("ix_training_questions_article_id"), "training_questions", ["article_id"], unique=False
    )
    op.create_table(
        "training_assignments",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("quiz_id", sa.BigInteger(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("team", sa.String(length=64), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("assigned_by", sa.String(length=64), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(agent_id IS NULL) <> (team IS NULL)",
            name=op.f("ck_training_assignments_one_assignee"),
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_training_assignments_agent_id_agents")
        ),
        sa.ForeignKeyConstraint(
            ["quiz_id"],
            ["training_quizzes.id"],
            name=op.f("fk_training_assignments_quiz_id_training_quizzes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_assignments")),
    )
    op.create_index(
        "ux_training_assignments_quiz_agent",
        "training_assignments",
        ["quiz_id", "agent_id"],
        unique=True,
        postgresql_where=sa.text("agent_id IS NOT NULL"),
    )
    op.create_index(
        "ux_training_assignments_quiz_team",
        "training_assignments",
        ["quiz_id", "team"],
        unique=True,
        postgresql_where=sa.text("team IS NOT NULL"),
    )
    op.create_table(
        "training_attempts",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("quiz_id", sa.BigInteger(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("attempt_key", sa.String(length=64), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("correct", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_training_attempts_agent_id_agents")
        ),
        sa.ForeignKeyConstraint(
            ["quiz_id"],
            ["training_quizzes.id"],
            name=op.f("fk_training_attempts_quiz_id_training_quizzes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_attempts")),
    )
    op.create_index(
        "ix_training_attempts_submitted_at", "training_attempts", ["submitted_at"], unique=False
    )
    op.create_index(
        "ux_training_attempts_agent_key",
        "training_attempts",
        ["agent_id", "attempt_key"],
        unique=True,
    )
    op.create_table(
        "training_quiz_questions",
        sa.Column("quiz_id", sa.BigInteger(), nullable=False),
        sa.Column("question_id", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["training_questions.id"],
            name=op.f("fk_training_quiz_questions_question_id_training_questions"),
        ),
        sa.ForeignKeyConstraint(
            ["quiz_id"],
            ["training_quizzes.id"],
            name=op.f("fk_training_quiz_questions_quiz_id_training_quizzes"),
        ),
        sa.PrimaryKeyConstraint("quiz_id", "question_id", name=op.f("pk_training_quiz_questions")),
    )


def downgrade() -> None:
    op.drop_table("training_quiz_questions")
    op.drop_index("ux_training_attempts_agent_key", table_name="training_attempts")
    op.drop_index("ix_training_attempts_submitted_at", table_name="training_attempts")
    op.drop_table("training_attempts")
    op.drop_index(
        "ux_training_assignments_quiz_team",
        table_name="training_assignments",
        postgresql_where=sa.text("team IS NOT NULL"),
    )
    op.drop_index(
        "ux_training_assignments_quiz_agent",
        table_name="training_assignments",
        postgresql_where=sa.text("agent_id IS NOT NULL"),
    )
    op.drop_table("training_assignments")
    op.drop_index(op.f("ix_training_questions_article_id"), table_name="training_questions")
    op.drop_table("training_questions")
    op.drop_table("training_quizzes")
