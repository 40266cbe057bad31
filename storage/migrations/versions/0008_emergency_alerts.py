"""emergencies: the kind, the unsure question, and the alert someone must acknowledge (`收到`)

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("work_order") as batch:
        batch.add_column(sa.Column("emergency", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch.add_column(sa.Column("danger_asked_at", storage.types.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("alerted_at", storage.types.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("acked_by", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("acked_at", storage.types.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("alert_rounds", sa.Integer(), nullable=False, server_default="0"))
        batch.create_foreign_key("fk_work_order_acked_by_member", "member", ["acked_by"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("work_order") as batch:
        batch.drop_constraint("fk_work_order_acked_by_member", type_="foreignkey")
        for column in ("alert_rounds", "acked_at", "acked_by", "alerted_at", "danger_asked_at", "emergency"):
            batch.drop_column(column)
