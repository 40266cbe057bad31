"""shifts and sessions remember when they were created

A reminder whose lead came before the event existed is folded into one reminder at creation,
so the scheduler needs the creation time. Existing rows count as created long ago, so their
reminders follow the leads as before.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = ("shift", "studysession")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=True))
        op.execute(sa.text(f"UPDATE {table} SET created_at = '2000-01-01 00:00:00'"))
        with op.batch_alter_table(table) as batch:
            batch.alter_column("created_at", nullable=False, existing_type=storage.types.UTCDateTime(timezone=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("created_at")
