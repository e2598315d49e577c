"""course covers: an uploaded cover's key and its alt text; the email log by status, newest first

Revision ID: 0020
Revises: 0016
Create Date: 2026-12-06 03:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = '0020'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cover_key', sqlmodel.sql.sqltypes.AutoString(length=64),
                                      nullable=False, server_default=''))
        batch_op.add_column(sa.Column('cover_alt', sqlmodel.sql.sqltypes.AutoString(length=200),
                                      nullable=False, server_default=''))
    with op.batch_alter_table('email_log', schema=None) as batch_op:
        batch_op.create_index('ix_email_log_status_created', ['status', 'created_at', 'id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('email_log', schema=None) as batch_op:
        batch_op.drop_index('ix_email_log_status_created')
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.drop_column('cover_alt')
        batch_op.drop_column('cover_key')
