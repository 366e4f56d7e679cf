"""Encode: text (and later image) encoders behind one protocol, a registry by name, and an embedding cache.

Imports only ``catalog``.
"""

from daogou.encode.base import ENCODERS, TextEncoder, get_encoder
from daogou.encode.cache import EmbeddingCache
from daogou.encode.product_text import product_text

__all__ = ["ENCODERS", "EmbeddingCache", "TextEncoder", "get_encoder", "product_text"]
