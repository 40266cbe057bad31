"""arrival: updates announced on arrival, so a person's updates are handled in order across processes

Revision ID: 0013_arrivals
Revises: 0013_web_pages
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = "0013_arrivals"
down_revision = "0013_web_pages"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "arrival",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("arrived_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform", "seq"),
    )
    op.create_index("ix_arrival_person", "arrival", ["platform", "user_id", "seq"])


def downgrade() -> None:
    op.drop_index("ix_arrival_person", table_name="arrival")
    op.drop_table("arrival")
