"""web pages: roster rows deactivated instead of deleted (`active`), ledger indexes (created_at, category)

Revision ID: 0013_web_pages
Revises: 0008_figures
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_web_pages"
down_revision = "0008_figures"
branch_labels = None
depends_on = None

ROSTER_TABLES = ("grid", "building", "member", "department", "shift", "studysession")


def upgrade() -> None:
    for table in ROSTER_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.create_index("ix_work_order_created_at", "work_order", ["created_at"], unique=False)
    op.create_index("ix_work_order_category", "work_order", ["category"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_work_order_category", table_name="work_order")
    op.drop_index("ix_work_order_created_at", table_name="work_order")
    for table in ROSTER_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("active")
