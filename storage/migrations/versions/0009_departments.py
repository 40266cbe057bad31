"""部门接单: departments and their contacts, the order's department, signer and moved deadline, 督办 levels

Revision ID: 0009_departments
Revises: 0008
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = "0009_departments"
down_revision = "0008"
branch_labels = None
depends_on = None

AT = storage.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "department",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("telegram_chat_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("wecom_webhook", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_department_code", "department", ["code"], unique=True)
    op.create_index("ix_department_telegram_chat_id", "department", ["telegram_chat_id"])
    op.create_table(
        "departmentcontact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["department_id"], ["department.id"]),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("department_id", "member_id"),
    )
    op.create_index("ix_departmentcontact_department_id", "departmentcontact", ["department_id"])
    op.create_index("ix_departmentcontact_member_id", "departmentcontact", ["member_id"])
    op.create_table(
        "orderurge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("stage", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("due_at", AT, nullable=False),
        sa.Column("episode", sa.Integer(), nullable=False),
        sa.Column("at", AT, nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["work_order.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("order_id", "stage", "level", "due_at", "episode"),
    )
    op.create_index("ix_orderurge_order_id", "orderurge", ["order_id"])
    with op.batch_alter_table("work_order") as batch:
        batch.add_column(sa.Column("department_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("escalated_at", AT, nullable=True))
        batch.add_column(sa.Column("signer_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("signed_at", AT, nullable=True))
        batch.add_column(sa.Column("finish_by", AT, nullable=True))
        batch.add_column(sa.Column("extension", sa.JSON(), nullable=True))
        batch.create_foreign_key("fk_work_order_department", "department", ["department_id"], ["id"])
        batch.create_foreign_key("fk_work_order_signer_member", "member", ["signer_id"], ["id"])
        batch.create_index("ix_work_order_department_id", ["department_id"])


def downgrade() -> None:
    with op.batch_alter_table("work_order") as batch:
        batch.drop_index("ix_work_order_department_id")
        batch.drop_constraint("fk_work_order_signer_member", type_="foreignkey")
        batch.drop_constraint("fk_work_order_department", type_="foreignkey")
        for column in ("extension", "finish_by", "signed_at", "signer_id", "escalated_at", "department_id"):
            batch.drop_column(column)
    op.drop_table("orderurge")
    op.drop_table("departmentcontact")
    op.drop_table("department")
