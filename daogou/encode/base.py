"""The text-encoder protocol and its registry. Built-ins register exactly as extensions do."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

import numpy as np

from daogou.errors import UnknownNameError

Kind = Literal["query", "passage"]


@runtime_checkable
class TextEncoder(Protocol):
    """Maps texts to L2-normalised float32 vectors. Queries and passages may be encoded differently (E5)."""

    name: str
    dim: int
    languages: tuple[str, ...]  # languages it understands, e.g. ("en",) or ("en", "zh")

    @property
    def cache_key(self) -> str:
        """Identity of the exact model: embeddings are cached under it."""
        ...

    def encode(self, texts: Sequence[str], kind: Kind = "passage", batch_size: int = 64,
               progress: bool = False) -> np.ndarray: ...


_REGISTRY: dict[str, Callable[[], TextEncoder]] = {}
_LOADED: dict[str, TextEncoder] = {}


def register_encoder(name: str) -> Callable[[Callable[[], TextEncoder]], Callable[[], TextEncoder]]:
    def deco(factory: Callable[[], TextEncoder]) -> Callable[[], TextEncoder]:
        _REGISTRY[name] = factory
        return factory
    return deco


def _builtins() -> None:
    from daogou.encode import e5, hashing, minilm  # noqa: F401  (registration side effect)


def encoder_names() -> list[str]:
    _builtins()
    return sorted(_REGISTRY)


def get_encoder(name: str, reuse: bool = True) -> TextEncoder:
    """An encoder by registered name, or a saved encoder folder (one holding ``daogou_encoder.json``).

    Models are loaded once per process and shared (``reuse=False`` loads a fresh one).
    """
    _builtins()
    if reuse and name in _LOADED:
        return _LOADED[name]
    if name in _REGISTRY:
        encoder = _REGISTRY[name]()
    elif (Path(name) / "daogou_encoder.json").is_file():
        from daogou.encode.folder import FolderEncoder
        encoder = FolderEncoder(Path(name))
    else:
        raise UnknownNameError("text encoder", name, list(_REGISTRY) + ["<path to a saved encoder folder>"])
    if reuse:
        _LOADED[name] = encoder
    return encoder


def normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def batches(texts: Sequence[str], size: int, progress: bool, desc: str):
    """Blocks of texts with a progress bar over texts."""
    from tqdm import tqdm
    with tqdm(total=len(texts), desc=desc, unit="text", disable=not progress, leave=False) as bar:
        for i in range(0, len(texts), size):
            block = texts[i:i + size]
            yield block
            bar.update(len(block))
