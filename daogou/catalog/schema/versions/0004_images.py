"""Image embeddings cached by encoder and image bytes; the last look at each product's picture.

Revision ID: 0004_images
Revises: 0003_copy
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_images"
down_revision = "0003_copy"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "image_embeddings",
        sa.Column("encoder", sa.String(200), primary_key=True),  # the image encoder's cache key (exact model)
        sa.Column("image_hash", sa.String(32), primary_key=True),  # hash of the image file's bytes
        sa.Column("dim", sa.Integer, nullable=False),
        sa.Column("vector", sa.LargeBinary, nullable=False),  # float32, little-endian
    )
    op.create_table(
        "product_images",
        # The last look at each product's picture: ok (image_hash set) or why there is none ("no image" state).
        sa.Column("product_id", sa.String(256), primary_key=True),
        sa.Column("image", sa.Text, nullable=False),
        sa.Column("image_hash", sa.String(32), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),  # ok | none | missing | too_large | corrupt | not_image
        sa.Column("error", sa.Text, nullable=False, default=""),
        sa.Column("checked_ms", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("product_images")
    op.drop_table("image_embeddings")
