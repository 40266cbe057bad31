"""inbox: when the replies reached the person, so a platform's retry does not send them twice

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inboxentry") as batch:
        batch.add_column(sa.Column("replied_at", storage.types.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inboxentry") as batch:
        batch.drop_column("replied_at")
