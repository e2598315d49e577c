"""quiz deadlines: a quiz's closing time and per-learner extensions

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 03:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('quizzes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closes_at_local', sa.DateTime(timezone=False), nullable=True))
    with op.batch_alter_table('quiz_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('time_limit_at', sa.DateTime(timezone=True), nullable=True))
    # Until now an attempt's deadline was its time limit's end and nothing else.
    op.execute("UPDATE quiz_attempts SET time_limit_at = deadline")

    op.create_table('deadline_extensions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('quiz_id', sa.Integer(), nullable=False),
    sa.Column('closes_at_local', sa.DateTime(timezone=False), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('granted_by_id', sa.Integer(), nullable=True),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['granted_by_id'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['quiz_id'], ['quizzes.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('deadline_extensions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deadline_extensions_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_deadline_extensions_quiz_id'), ['quiz_id'], unique=False)
        batch_op.create_index('ix_deadline_extensions_user_course', ['user_id', 'course_id'], unique=False)
        batch_op.create_index('uq_deadline_extensions_one_live', ['user_id', 'quiz_id'], unique=True, sqlite_where=sa.text('revoked_at IS NULL'), postgresql_where=sa.text('revoked_at IS NULL'))


def downgrade() -> None:
    with op.batch_alter_table('deadline_extensions', schema=None) as batch_op:
        batch_op.drop_index('uq_deadline_extensions_one_live', sqlite_where=sa.text('revoked_at IS NULL'), postgresql_where=sa.text('revoked_at IS NULL'))
        batch_op.drop_index('ix_deadline_extensions_user_course')
        batch_op.drop_index(batch_op.f('ix_deadline_extensions_quiz_id'))
        batch_op.drop_index(batch_op.f('ix_deadline_extensions_course_id'))

    op.drop_table('deadline_extensions')
    with op.batch_alter_table('quiz_attempts', schema=None) as batch_op:
        batch_op.drop_column('time_limit_at')
    with op.batch_alter_table('quizzes', schema=None) as batch_op:
        batch_op.drop_column('closes_at_local')
