"""What search sees of the products' pictures: aligned image vectors (text queries) and raw image features
(search by image), both as masked dense indexes.

Text queries get an extra ranked list ``image`` (query vector · aligned picture vector), fused like the other
signals, so a product whose colour shows only in its picture can still answer "red dress". ``fusion="concat"``
instead folds the pictures into the dense index itself (``[x_t; w·x_i]``, see :func:`concat_vectors`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from daogou.catalog.store import Store
from daogou.encode.fusion import concat_vectors
from daogou.encode.image_cache import ImageFeatureCache
from daogou.encode.images import ImageEncoder, get_image_encoder
from daogou.encode.multimodal import MultimodalConfig, StoreAlignment, store_alignment
from daogou.errors import ConfigError
from daogou.search.dense import DenseIndex

IMAGE_FUSIONS = ("list", "concat")


@dataclass
class ImageSignals:
    encoder: ImageEncoder
    aligned: DenseIndex       # pictures in the text-query space
    raw: DenseIndex           # pictures in the image encoder's own space (look-alikes)
    has_image: np.ndarray
    aligned_vectors: np.ndarray
    metrics: dict

    @classmethod
    def from_alignment(cls, encoder: ImageEncoder, alignment: StoreAlignment) -> ImageSignals:
        return cls(encoder, DenseIndex(alignment.aligned), DenseIndex(alignment.images.vectors),
                   alignment.images.has_image, alignment.aligned, alignment.metrics)

    @classmethod
    def build(cls, store: Store, text_encoder: str, image_encoder: str, products, progress: bool = False
              ) -> ImageSignals:
        cfg = MultimodalConfig(text_encoder=text_encoder, image_encoder=image_encoder)
        return cls.from_alignment(get_image_encoder(image_encoder),
                                  store_alignment(store, cfg, products, progress=progress))

    def allowed(self, mask: np.ndarray | None) -> np.ndarray:
        return self.has_image if mask is None else (mask & self.has_image)

    def by_text(self, query_vector: np.ndarray, k: int, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        allowed = self.allowed(mask)
        if not allowed.any():
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        return self.aligned.search(query_vector, k, allowed)

    def by_picture(self, store: Store, path: Path, k: int, mask: np.ndarray | None
                   ) -> tuple[np.ndarray, np.ndarray]:
        """Products that look like the picture at ``path`` (raises ImageError when it cannot be used)."""
        vector = ImageFeatureCache(store).encode_file(self.encoder, Path(path))
        allowed = self.allowed(mask)
        if not allowed.any():
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        return self.raw.search(vector, k, allowed)

    def fused_text_index(self, text_vectors: np.ndarray, image_weight: float) -> DenseIndex:
        """``concat``: one dense index over ``[x_t; w·x_i]``; query it with ``[q; q]``."""
        return DenseIndex(concat_vectors(text_vectors, self.aligned_vectors, image_weight, self.has_image))


def check_image_fusion(name: str) -> None:
    if name not in IMAGE_FUSIONS:
        raise ConfigError(f"unknown image fusion {name!r}; expected one of {', '.join(IMAGE_FUSIONS)}")
