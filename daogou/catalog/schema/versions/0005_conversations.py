"""The shopping guide's conversations, so a restart (or a second server process) continues them.

Revision ID: 0005_conversations
Revises: 0004_images
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_conversations"
down_revision = "0004_images"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("shopper_id", sa.String(256), nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
        sa.Column("state", sa.Text, nullable=False),  # JSON: language, constraints, shown products, turns
    )
    op.create_index("ix_conversations_updated_ms", "conversations", ["updated_ms"])


def downgrade() -> None:
    op.drop_table("conversations")
