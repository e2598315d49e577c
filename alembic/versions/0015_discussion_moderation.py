"""discussion moderation: flags, hidden posts and threads

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 00:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('discussion_flags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['post_id'], ['discussion_posts.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('post_id', 'user_id', name='uq_discussion_flags_post_user')
    )
    with op.batch_alter_table('discussion_flags', schema=None) as batch_op:
        batch_op.create_index('ix_discussion_flags_resolved_created', ['resolved_at', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_discussion_flags_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('discussion_posts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hidden_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('discussion_threads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hidden_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('discussion_threads', schema=None) as batch_op:
        batch_op.drop_column('hidden_at')

    with op.batch_alter_table('discussion_posts', schema=None) as batch_op:
        batch_op.drop_column('hidden_at')

    with op.batch_alter_table('discussion_flags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_discussion_flags_user_id'))
        batch_op.drop_index('ix_discussion_flags_resolved_created')

    op.drop_table('discussion_flags')
