"""Lexical search: BM25 (``bm25s``) over analysed product text; Chinese is segmented with ``jieba``, other words
are stemmed (Snowball English, ``PyStemmer``)."""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from daogou.search.vocab import CJK_RE, tokens

# Where a number meets a word inside one token: "110cfm", "ps5", "5v".
_NUMBER_EDGE_RE = re.compile(r"(?<=\d)(?=[^\W\d_])|(?<=[^\W\d_])(?=\d)")
_stemmers = threading.local()  # a PyStemmer object must not be shared between threads


def analyze(text: str) -> list[str]:
    """The query-understanding tokenizer in search mode (NFKC, lower case, Unicode words, jieba's search mode for
    Chinese), then for every other word its stem ("shoes" and "shoe" match), and a word that runs a number into
    letters also stands for its parts ("110cfm" matches "110 CFM")."""
    out: list[str] = []
    for token in tokens(text, for_search=True):
        out.extend((token,) if CJK_RE.search(token) else _latin(token))
    return out


@lru_cache(maxsize=200_000)
def _latin(token: str) -> tuple[str, ...]:
    parts = [token, *_NUMBER_EDGE_RE.split(token)] if _NUMBER_EDGE_RE.search(token) else [token]
    return tuple(_stem(w) for w in parts)


def stem_word(word: str) -> str:
    """An English word's stem, as BM25 indexes it ("laptops" → laptop)."""
    return _stem(word)


def _stem(word: str) -> str:
    stemmer = getattr(_stemmers, "english", None)
    if stemmer is None:
        import Stemmer
        stemmer = _stemmers.english = Stemmer.Stemmer("english")
    return stemmer.stemWord(word)


class BM25Index:
    """Exact BM25 over the whole catalog; filtering is a mask over the score vector, so nothing leaks."""

    kind = "lexical"

    def __init__(self, retriever, size: int):
        self.retriever, self.size = retriever, size

    @classmethod
    def build(cls, texts: Sequence[str]) -> "BM25Index":
        import bm25s
        retriever = bm25s.BM25()
        corpus = [analyze(t) or ["\u2205"] for t in texts]  # bm25s needs a token per document
        retriever.index(corpus, show_progress=False)
        return cls(retriever, len(texts))

    def scores(self, query: str) -> np.ndarray:
        tokens = [t for t in analyze(query) if t in self.retriever.vocab_dict]
        if not tokens or self.size == 0:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self.retriever.get_scores(tokens), dtype=np.float32)

    def knows(self, word: str) -> bool:
        """Whether some product's text has ``word`` (one query word, as ``vocab.tokens`` cuts it): a Latin word by
        its stem or a part ("110cfm"); a Chinese word whole, or every character of it in words the catalog has
        ("蓝牙耳机": 蓝牙 + 耳机)."""
        known = self.retriever.vocab_dict
        if not CJK_RE.search(word):
            return any(t in known for t in _latin(word.lower()))
        if word in known:
            return True
        parts = [t for t in analyze(word) if t != word and t in known]
        covered = set()
        for t in parts:
            i = word.find(t)
            while i >= 0:
                covered.update(range(i, i + len(t)))
                i = word.find(t, i + 1)
        return bool(parts) and len(covered) == len(word)

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Indices and scores of the best ``k`` documents with a positive score (and allowed by ``mask``)."""
        scores = self.scores(query)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        return top_k(scores, k, positive_only=True)

    def save(self, folder: Path) -> None:
        self.retriever.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path, size: int) -> "BM25Index":
        import bm25s
        return cls(bm25s.BM25.load(str(folder), show_progress=False, verbosity=0), size)


def top_k(scores: np.ndarray, k: int, positive_only: bool = False) -> tuple[np.ndarray, np.ndarray]:
    candidates = np.flatnonzero(scores > 0) if positive_only else np.arange(len(scores))
    if len(candidates) > k:
        part = np.argpartition(-scores[candidates], k - 1)[:k]
        candidates = candidates[part]
    order = np.lexsort((candidates, -scores[candidates]))  # score desc, then index: deterministic ties
    chosen = candidates[order]
    return chosen, scores[chosen]
