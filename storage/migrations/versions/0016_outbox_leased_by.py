"""outbox: which process leased a row, so another takes it over as soon as that process has died

Revision ID: 0016_outbox_leased_by
Revises: 0015_inbox_replying_by
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_outbox_leased_by"
down_revision = "0015_inbox_replying_by"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outboxmessage") as batch:
        batch.add_column(sa.Column("leased_by", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outboxmessage") as batch:
        batch.drop_column("leased_by")
