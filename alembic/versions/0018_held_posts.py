"""discussion posts held for review; a flag may be raised again after a dismissal

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 03:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('discussion_posts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('held_at', sa.DateTime(timezone=True), nullable=True))

    # One open flag per post and reader, instead of one flag ever.
    with op.batch_alter_table('discussion_flags', schema=None) as batch_op:
        batch_op.drop_constraint('uq_discussion_flags_post_user', type_='unique')
        batch_op.create_index('uq_discussion_flags_one_open', ['post_id', 'user_id'], unique=True, sqlite_where=sa.text('resolved_at IS NULL'), postgresql_where=sa.text('resolved_at IS NULL'))


def downgrade() -> None:
    # Going back to one flag ever: the older flags of a post and reader go first.
    op.execute('DELETE FROM discussion_flags WHERE id NOT IN '
               '(SELECT max(id) FROM discussion_flags GROUP BY post_id, user_id)')
    with op.batch_alter_table('discussion_flags', schema=None) as batch_op:
        batch_op.drop_index('uq_discussion_flags_one_open', sqlite_where=sa.text('resolved_at IS NULL'), postgresql_where=sa.text('resolved_at IS NULL'))
        batch_op.create_unique_constraint('uq_discussion_flags_post_user', ['post_id', 'user_id'])

    with op.batch_alter_table('discussion_posts', schema=None) as batch_op:
        batch_op.drop_column('held_at')
