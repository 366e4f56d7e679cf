"""An index on a shopper's conversations, newest last: the per-shopper cap deletes all but the newest few.

Revision ID: 0006_conversations_by_shopper
Revises: 0005_conversations
"""

from alembic import op

revision = "0006_conversations_by_shopper"
down_revision = "0005_conversations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_conversations_shopper", "conversations", ["shopper_id", "updated_ms"])


def downgrade() -> None:
    op.drop_index("ix_conversations_shopper", "conversations")
