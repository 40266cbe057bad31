"""inbox: which process is sending an update's replies, so a retry meanwhile sends them only if it died

Revision ID: 0015_inbox_replying_by
Revises: 0013_arrivals
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_inbox_replying_by"
down_revision = "0013_arrivals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inboxentry") as batch:
        batch.add_column(sa.Column("replying_by", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inboxentry") as batch:
        batch.drop_column("replying_by")
