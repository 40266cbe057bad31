"""follow-ups: 催办 counted on the order, a voice message kept on it, neighbours who follow it

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("work_order") as batch:
        batch.add_column(sa.Column("chases", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("reopens", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("voice", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.create_table(
        "orderfollower",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["work_order.id"]),
        sa.ForeignKeyConstraint(["resident_id"], ["resident.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("order_id", "resident_id"),
    )
    op.create_index(op.f("ix_orderfollower_order_id"), "orderfollower", ["order_id"], unique=False)
    op.create_index(op.f("ix_orderfollower_resident_id"), "orderfollower", ["resident_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_orderfollower_resident_id"), table_name="orderfollower")
    op.drop_index(op.f("ix_orderfollower_order_id"), table_name="orderfollower")
    op.drop_table("orderfollower")
    with op.batch_alter_table("work_order") as batch:
        batch.drop_column("voice")
        batch.drop_column("reopens")
        batch.drop_column("chases")
