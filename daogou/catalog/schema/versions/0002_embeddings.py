"""Text embeddings cached by encoder and text.

Revision ID: 0002_embeddings
Revises: 0001_initial
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_embeddings"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "embeddings",
        sa.Column("encoder", sa.String(200), primary_key=True),  # the encoder's cache key (exact model)
        sa.Column("text_hash", sa.String(32), primary_key=True),  # hash of (kind, text)
        sa.Column("dim", sa.Integer, nullable=False),
        sa.Column("vector", sa.LargeBinary, nullable=False),  # float32, little-endian
    )


def downgrade() -> None:
    op.drop_table("embeddings")
