"""web workbench: one-time login links and browser sessions (hashes only)

Revision ID: 0010
Revises: 0009_departments
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = "0010"
down_revision = "0009_departments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("weblink", "websession"):
        op.create_table(
            table,
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("member_id", sa.Integer(), nullable=False),
            sa.Column("expires_at", storage.types.UTCDateTime(timezone=True), nullable=False),
            sa.Column("used_at" if table == "weblink" else "ended_at", storage.types.UTCDateTime(timezone=True), nullable=True),
            sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("token_hash"),
        )
        op.create_index(op.f(f"ix_{table}_member_id"), table, ["member_id"], unique=False)


def downgrade() -> None:
    for table in ("websession", "weblink"):
        op.drop_index(op.f(f"ix_{table}_member_id"), table_name=table)
        op.drop_table(table)
