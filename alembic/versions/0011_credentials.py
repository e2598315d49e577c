"""Open Badges credentials: issuer keys, signed credentials, status lists

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 21:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('issuer_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_key_multibase', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('first_signed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_signed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('public_key_multibase')
    )
    op.create_table('credentials',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('certificate_id', sa.Integer(), nullable=False),
    sa.Column('issuer_key_id', sa.Integer(), nullable=False),
    sa.Column('facts_digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('document', sa.Text(), nullable=False),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificates.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['issuer_key_id'], ['issuer_keys.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('certificate_id')
    )
    op.create_table('credential_status_lists',
    sa.Column('list_number', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('revoked_digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('document', sa.Text(), nullable=False),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('list_number')
    )


def downgrade() -> None:
    op.drop_table('credential_status_lists')
    op.drop_table('credentials')
    op.drop_table('issuer_keys')
