"""orders carry a version (every compare-and-set checks it; outbox keys are built from it);
conversation state is a named state with typed data and an expiry

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("work_order") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("orderevent") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("identity") as batch:
        batch.add_column(sa.Column("awaiting_data", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("awaiting_until", storage.types.UTCDateTime(timezone=True), nullable=True))
    # The old free-string states (`finish:12`, `rate:7`) have no typed data: whoever was mid-answer
    # is simply asked again.
    op.execute("UPDATE identity SET awaiting = NULL")


def downgrade() -> None:
    with op.batch_alter_table("identity") as batch:
        batch.drop_column("awaiting_until")
        batch.drop_column("awaiting_data")
    with op.batch_alter_table("orderevent") as batch:
        batch.drop_column("version")
    with op.batch_alter_table("work_order") as batch:
        batch.drop_column("version")
