"""coupon currency: a fixed-amount coupon only discounts courses priced in its currency

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("coupons", schema=None) as batch_op:
        batch_op.add_column(sa.Column("currency", sa.String(length=3), nullable=False,
                                      server_default=""))
    # Fixed coupons made before this revision take the currency of their course (or USD, the
    # course default, when they are for every course).
    op.execute("UPDATE coupons SET currency = COALESCE((SELECT courses.currency FROM courses "
               "WHERE courses.id = coupons.course_id), 'USD') WHERE kind = 'fixed'")


def downgrade() -> None:
    with op.batch_alter_table("coupons", schema=None) as batch_op:
        batch_op.drop_column("currency")
