"""course reviews

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 00:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('course_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('edited_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reply', sa.Text(), nullable=False),
    sa.Column('reply_author_id', sa.Integer(), nullable=True),
    sa.Column('replied_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('rating >= 1 AND rating <= 5', name='ck_course_reviews_rating'),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reply_author_id'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('course_id', 'user_id', name='uq_course_reviews_course_user')
    )
    with op.batch_alter_table('course_reviews', schema=None) as batch_op:
        batch_op.create_index('ix_course_reviews_course_created', ['course_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_course_reviews_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('course_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_reviews_user_id'))
        batch_op.drop_index('ix_course_reviews_course_created')

    op.drop_table('course_reviews')
