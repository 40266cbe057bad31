"""outbox: an index for "is an earlier row of this chat held back?" (storage/outbox.py due_batches)

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_outbox_chat_state_id", "outboxmessage", ["platform", "chat_id", "state", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_outbox_chat_state_id", table_name="outboxmessage")
