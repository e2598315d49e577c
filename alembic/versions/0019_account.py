"""account: email per topic, avatar, email changes

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 03:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Until now `email_reminders` also stood for release emails and discussion digests (their
# unsubscribe link set it): whoever turned it off keeps those off too.
_TOPICS_IT_COVERED = ('email_discussions', 'email_releases')


def upgrade() -> None:
    op.create_table('email_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('new_email', sa.String(length=254), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('email_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_email_changes_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_email_changes_token_hash'), ['token_hash'], unique=True)
        batch_op.create_index(batch_op.f('ix_email_changes_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_course_updates', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('email_discussions', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('email_releases', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('email_payments', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('avatar', sa.String(length=64), server_default='', nullable=False))
    users = sa.table('users', sa.column('email_reminders', sa.Boolean()),
                     *(sa.column(name, sa.Boolean()) for name in _TOPICS_IT_COVERED))
    op.execute(users.update().where(users.c.email_reminders.is_(False))
               .values({name: False for name in _TOPICS_IT_COVERED}))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('avatar')
        batch_op.drop_column('email_payments')
        batch_op.drop_column('email_releases')
        batch_op.drop_column('email_discussions')
        batch_op.drop_column('email_course_updates')

    with op.batch_alter_table('email_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_email_changes_user_id'))
        batch_op.drop_index(batch_op.f('ix_email_changes_token_hash'))
        batch_op.drop_index(batch_op.f('ix_email_changes_expires_at'))

    op.drop_table('email_changes')
