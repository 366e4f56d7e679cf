"""``e5-static``: a static word-vector student distilled from ``e5-multilingual`` on the store's own words.

model2vec's recipe at the level of words: every word the student meets is embedded once by the teacher (the
word alone, as a passage); a text is the frequency-weighted mean of its words' vectors after the directions
that all of the store's words share are taken out (the mean and the top principal components of the store's
word vectors, "all-but-the-top"), L2-normalised. Encoding is a table look-up and a sparse sum: over ten
thousand texts a second and a query in well under a millisecond, where the teacher runs a 12-layer
transformer over every text (~30 texts a second on 2 cores).

Words: NFKC, lower case; Latin letters and digits split into runs of each ("xr2000" → "xr", "2000"), longer
digit runs (model numbers, SKUs) dropped, letter runs cut at 30; Chinese runs cut by jieba, and a word jieba
keeps whole also adds its characters at half weight (a shopper's 耳机 meets a product's 蓝牙耳机). A word weighs
SIF's a / (a + p(w)), p(w) its frequency in the language (``wordfreq``): 的, the, for weigh little; 降噪,
waterproof weigh much.

``fit`` learns the words of the store's texts and the shared directions; ``save``/``load`` keep the student as
an encoder folder (``daogou_encoder.json`` + safetensors), used wherever an encoder name is accepted. Words met
later are embedded by the teacher when first seen (one batched call for a batch of products, one call for a
query word never seen before) and written to the folder's ``words/`` shards when they come from products. Each
language's most common words (wordfreq's lists: "under", "cheap", 便宜) are learned at distillation too, since
shoppers type them and product texts lack them; their teacher vectors are kept in a cache on the machine
(:func:`machine_cache`), so only the first distillation on a machine asks for them. A query word cut off while
typing ("wireless headph") is no word for the teacher: it stands for the shortest known words it begins
("headphone", "headphones"), found in a sorted list without a teacher call.

A query never waits for the teacher (one call is ~7 ms on 2 cores, over the query-encoding budget of 5 ms): an
unknown query word stands for the known words it is a cut-off start of, else for the known words one typo away
("caffiene" → caffeine, two for words of eight letters or more), looked up among the known words of its first
letter and about its length; a word with neither (a number, a Chinese word jieba glued from a cut-off text, a
name the store and the languages' common words lack) adds nothing to the query vector. BM25 still reads it.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import os
import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from daogou.encode.base import Kind, TextEncoder, batches
from daogou.errors import ConfigError

VERSION = 1
_CJK_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN = re.compile(rf"[a-z]+|[0-9]+|[{_CJK_CLASS}]+")
_CJK = re.compile(rf"[{_CJK_CLASS}]")
_MAX_DIGITS = 4       # longer digit runs are codes, not words
_MAX_LATIN = 30       # longer letter runs are cut (no word is longer; hashes and base64 are not words)
LEARN_BLOCK = 512     # words per teacher call while learning (progress granularity)
MIN_FRAGMENT = 3      # a query word cut off while typing: at least this many letters ...
FRAGMENT_MAX_ZIPF = 3.0  # ... and no word of its own (wordfreq Zipf under 3: rarer than one in a million)
COMPLETIONS = 3       # completions a cut-off word stands for, and near words a misspelt one stands for


@dataclass(frozen=True)
class StaticConfig:
    components: int = 8        # shared principal directions removed (after the mean)
    sif_a: float = 3e-4        # SIF smoothing: weight = a / (a + p(word))
    char_weight: float = 0.5   # the characters of a Chinese word, relative to the word
    general_words: int = 30000  # also learned: each teacher language's most common words (wordfreq), the words
                                # shoppers type that product texts lack ("under", "cheap", 便宜, 左右, "bleach");
                                # with 5000 a query's unknown words cost 0.013 nDCG@10 on ESCI, with 30000 none
    teacher_texts: int = 0     # product texts (a sample) the teacher embeds whole at distillation, to fit the
                               # passage side to (passage_fit.py; ~30 texts/s on 2 cores). It pays for the
                               # products in the sample (ESCI, all 658: hybrid 0.3426 -> 0.3504) and not for
                               # others (a fit on other shops' titles: 0.3433 -> 0.3394), so it is off unless asked
    teacher_passages: bool = False  # every product text read whole by the teacher (its speed: ~20-30 texts a second
                                    # on 2 cores) and taken into the student's space; queries stay static. The
                                    # student's own passages lose most of what it loses (ESCI hybrid: 3.4% below the
                                    # teacher; with the teacher's passages, 1.0%): a store that can wait for the
                                    # teacher once per product keeps its quality and a query still costs no model


def words(text: str, char_weight: float = 0.5) -> list[tuple[str, float]]:
    """The words of a text with their share: (word, 1.0), and a Chinese word's characters at ``char_weight``."""
    import jieba
    out: list[tuple[str, float]] = []
    for run in _RUN.findall(unicodedata.normalize("NFKC", text).lower()):
        if _CJK.match(run):
            for w in jieba.lcut(run, HMM=False):
                out.append((w, 1.0))
                if len(w) > 1 and char_weight > 0:
                    out.extend((c, char_weight) for c in w)
        elif run[0].isdigit():
            if len(run) <= _MAX_DIGITS:
                out.append((run, 1.0))
        else:
            out.append((run[:_MAX_LATIN], 1.0))
    return out


class _Rows:
    """A float32 matrix that grows by whole rows in amortised O(1) (capacity doubles), where concatenating would
    copy the whole table for every word a query brings."""

    def __init__(self, dim: int):
        self._buf, self._n = np.zeros((0, dim), dtype=np.float32), 0

    def __len__(self) -> int:
        return self._n

    def extend(self, rows: np.ndarray) -> None:
        need = self._n + len(rows)
        if need > len(self._buf):
            grown = np.zeros((max(need, 2 * len(self._buf), 1024), self._buf.shape[1]), dtype=np.float32)
            grown[:self._n] = self._buf[:self._n]
            self._buf = grown
        self._buf[self._n:need] = rows
        self._n = need

    def view(self) -> np.ndarray:
        return self._buf[:self._n]


class WordTable:
    """Words → teacher vectors, grown on demand; kept as shards in ``folder`` (None: in memory only).

    Shards are written whole (temporary name, then rename) and named by their content, so processes that learn
    at the same time (serve workers, an indexer) never see half a shard, and a word learned twice is harmless."""

    def __init__(self, teacher: TextEncoder, folder: Path | None = None):
        self.teacher, self.folder = teacher, folder
        self.index: dict[str, int] = {}
        self.names: list[str] = []   # row order
        self._vectors = _Rows(teacher.dim)
        self._lock = threading.Lock()
        if folder is not None:
            self._load()

    def _load(self) -> None:
        from safetensors.numpy import load_file
        if not self.folder.is_dir():
            return
        for shard in sorted(self.folder.glob("words-*.safetensors")):
            try:
                vectors = load_file(str(shard))["vectors"]
                names = json.loads(shard.with_suffix(".json").read_text(encoding="utf-8"))
            except (OSError, ValueError, KeyError):
                continue  # unreadable: its words are learned again when met
            if len(names) == len(vectors):
                self._add(names, vectors)

    def seed(self, folder: Path) -> None:
        """Take the words already learned in another table's folder (a student distilled before)."""
        own, self.folder = self.folder, folder
        try:
            self._load()
        finally:
            self.folder = own

    def _add(self, names: Sequence[str], vectors: np.ndarray) -> None:
        fresh = [(w, v) for w, v in zip(names, vectors) if w not in self.index]
        if fresh:
            start = len(self._vectors)
            self._vectors.extend(np.stack([v for _, v in fresh]))
            for i, (w, _) in enumerate(fresh):
                self.index[w] = start + i
                self.names.append(w)

    @property
    def matrix(self) -> np.ndarray:
        """[words, dim] teacher vectors in row order (a view: valid until the next word is added)."""
        return self._vectors.view()

    def take(self, names: Sequence[str], vectors: np.ndarray, persist: bool = True) -> None:
        """Add words whose vectors are already known (another table's), kept in the folder when ``persist``."""
        with self._lock:
            self._add(names, vectors)
            if persist and self.folder is not None:
                self._write(names, vectors)

    def learn(self, names: Iterable[str], persist: bool = True, progress: bool = False) -> int:
        """Embed the words not known yet with the teacher; returns how many were new."""
        with self._lock:
            new = sorted({w for w in names if w not in self.index})
            if not new:
                return 0
            for block in batches(new, LEARN_BLOCK, progress, "learn words"):
                vectors = self.teacher.encode(list(block), kind="passage")
                self._add(block, vectors)
                if persist and self.folder is not None:
                    self._write(block, vectors)
            return len(new)

    def _write(self, names: Sequence[str], vectors: np.ndarray) -> None:
        from safetensors.numpy import save_file
        self.folder.mkdir(parents=True, exist_ok=True)
        stem = "words-" + hashlib.blake2b("\n".join(names).encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()
        tmp_json, tmp_vec = self.folder / f".{stem}.json.tmp", self.folder / f".{stem}.safetensors.tmp"
        tmp_json.write_text(json.dumps(list(names), ensure_ascii=False), encoding="utf-8")
        save_file({"vectors": np.ascontiguousarray(vectors, dtype=np.float32)}, str(tmp_vec))
        os.replace(tmp_json, self.folder / f"{stem}.json")         # names first: whoever finds the vectors
        os.replace(tmp_vec, self.folder / f"{stem}.safetensors")   # finds their names


class StaticEncoder:
    """Frequency-weighted mean of distilled word vectors, with the store's shared directions removed."""

    MANIFEST_KIND = "static"

    def __init__(self, teacher: TextEncoder, name: str = "e5-static", config: StaticConfig = StaticConfig(),
                 folder: Path | None = None):
        self.teacher, self.name, self.config = teacher, name, config
        self.dim = teacher.dim
        self.languages = tuple(teacher.languages)
        self.table = WordTable(teacher, folder / "words" if folder else None)
        self.mean: np.ndarray | None = None        # set by fit/load
        self.components: np.ndarray | None = None  # (k, dim)
        self._projected = _Rows(self.dim)
        self._frequencies: dict[str, float] = {}
        self._key: str | None = None
        self._latin: list[str] = []   # the table's Latin words, sorted: where a cut-off word finds its completions
        self._latin_seen = 0          # table rows already sorted into it
        self._completions: dict[str, tuple[str, ...]] = {}
        self._by_start: dict[tuple[str, int], list[str]] = {}  # known Latin words by (first letter, length)
        self._near: dict[str, tuple[str, ...]] = {}
        self.passage_map: np.ndarray | None = None   # [dim, dim] on a passage's summed vector (None: identity)
        self.passage_scale: dict[str, float] = {}    # a word's weight multiplier in passages (absent: 1)
        self.fit_report: dict = {}

    # ------------------------------------------------------------------ fit / save / load

    def fit(self, texts: Sequence[str], progress: bool = False) -> "StaticEncoder":
        """Learn the words of the store's texts and the directions they all share."""
        seen = {w for t in texts for w, _ in words(t, self.config.char_weight)}
        if not seen:
            raise ConfigError("e5-static: the texts to distil on contain no words")
        self.table.learn(seen, progress=progress)
        self._learn_general(progress)
        vectors = self.table.matrix[sorted(self.table.index[w] for w in seen)]
        self.mean = vectors.mean(axis=0)
        k = min(self.config.components, len(vectors) - 1)
        if k > 0:
            _, _, vt = np.linalg.svd(vectors - self.mean, full_matrices=False)
            self.components = np.ascontiguousarray(vt[:k], dtype=np.float32)
        else:
            self.components = np.zeros((0, self.dim), dtype=np.float32)
        self._projected = _Rows(self.dim)
        self._key = None
        self.passage_map, self.passage_scale = None, {}
        if not self.config.teacher_passages:  # the teacher's own passages need no fitted stand-in
            self._fit_passages(texts, progress)
        return self.warm()

    def _fit_passages(self, texts: Sequence[str], progress: bool) -> None:
        """Fit the passage side to the teacher's vectors of up to ``teacher_texts`` of the store's texts."""
        from daogou.encode.passage_fit import PassageFitConfig, fit
        n, least = self.config.teacher_texts, PassageFitConfig.min_texts
        if n <= 0:
            return
        pool = list(dict.fromkeys(texts))
        rng = np.random.default_rng(0)
        picked = [pool[i] for i in sorted(rng.choice(len(pool), min(n, len(pool)), replace=False))]
        parsed_by_text = [(t, words(t, self.config.char_weight)) for t in picked]
        sample = [t for t, ws in parsed_by_text if ws]  # a text without words says nothing
        parsed = [ws for _, ws in parsed_by_text if ws]
        if len(sample) < least:  # too few to hold any out: the plain mean
            self.fit_report = {"texts": len(sample), "fitted": False, "reason": f"fewer than {least} texts"}
            return
        used = sorted({w for ws in parsed for w, _ in ws})
        weights = self._weights(parsed, {w: j for j, w in enumerate(used)})
        targets = self._into_space(np.concatenate(
            [self.teacher.encode(list(b), kind="passage") for b in batches(sample, 64, progress, "teacher texts")]))
        rows = self._rows()[[self.table.index[w] for w in used]]
        result = fit(weights, rows, targets)
        self.fit_report = result.report
        if result.report.get("fitted"):
            self.passage_map = result.matrix
            self.passage_scale = {w: float(s) for w, s in zip(used, result.scales)}
            self._key = None

    def _into_space(self, vectors: np.ndarray) -> np.ndarray:
        """Teacher vectors taken into the student's space (:meth:`_project`), unit length."""
        out = self._project(vectors)
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)

    def _learn_general(self, progress: bool) -> None:
        """Learn the languages' common words: from this machine's cache of the teacher's vectors for them when
        another distillation already asked (one teacher pass per machine, not per store), else from the teacher."""
        common = general_words(self.languages, self.config.general_words, self.config.char_weight)
        cache = machine_cache(self.teacher)
        if cache is None or not common:
            self.table.learn(common, progress=progress)
            return
        cached = WordTable(self.teacher, cache)
        found = sorted(w for w in common if w not in self.table.index and w in cached.index)
        if found:
            self.table.take(found, cached.matrix[[cached.index[w] for w in found]])
        self.table.learn(common, progress=progress)
        lacking = sorted(w for w in common if w not in cached.index)
        if lacking:
            try:
                cached.take(lacking, self.table.matrix[[self.table.index[w] for w in lacking]])
            except OSError:
                pass  # a read-only or full cache: the next distillation asks the teacher again

    def save(self, folder: Path, teacher_name: str, report: dict | None = None) -> Path:
        """Write the student to ``folder`` (its word shards are already there when it was made with it)."""
        from safetensors.numpy import save_file
        self._require_fit()
        folder.mkdir(parents=True, exist_ok=True)
        if self.table.folder is None or self.table.folder.resolve() != (folder / "words").resolve():
            WordTable(self.teacher, folder / "words")._write(self.table.names,
                                                            self.table.matrix)
        save_file({"mean": self.mean.astype(np.float32), "components": self.components},
                  str(folder / "projection.safetensors"))
        if self.passage_map is not None:
            names = sorted(self.passage_scale)
            save_file({"matrix": np.ascontiguousarray(self.passage_map, dtype=np.float32),
                       "scales": np.asarray([self.passage_scale[w] for w in names], dtype=np.float32)},
                      str(folder / "passage.safetensors"))
            (folder / "passage.json").write_text(json.dumps(names, ensure_ascii=False), encoding="utf-8")
        from daogou.encode.folder import write_manifest
        write_manifest(folder, self.name, teacher_name, self.languages, kind=self.MANIFEST_KIND, version=VERSION,
                       config=asdict(self.config), words=len(self.table.index), **(report or {}))
        return folder

    @classmethod
    def load(cls, folder: Path, manifest: dict) -> "StaticEncoder":
        from safetensors.numpy import load_file
        from daogou.encode.base import get_encoder
        if manifest.get("version") != VERSION:
            raise ConfigError(f"{folder}: e5-static folder version {manifest.get('version')} "
                              f"(this daogou reads {VERSION}); distil it again")
        try:
            config = StaticConfig(**manifest.get("config", {}))
            projection = load_file(str(folder / "projection.safetensors"))
        except (TypeError, OSError, ValueError) as exc:
            raise ConfigError(f"{folder}: unreadable e5-static student: {exc}") from exc
        student = cls(get_encoder(manifest["base"]), manifest.get("name", folder.name), config, folder)
        student.mean, student.components = projection["mean"], projection["components"]
        if (folder / "passage.safetensors").is_file():  # a student distilled with a fitted passage side
            try:
                passage = load_file(str(folder / "passage.safetensors"))
                names = json.loads((folder / "passage.json").read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ConfigError(f"{folder}: unreadable e5-static passage fit: {exc}") from exc
            if len(names) != len(passage["scales"]) or passage["matrix"].shape != (student.dim, student.dim):
                raise ConfigError(f"{folder}: e5-static passage fit does not match its words or dimension")
            student.passage_map = passage["matrix"]
            student.passage_scale = dict(zip(names, passage["scales"].tolist()))
        return student.warm()

    def warm(self) -> "StaticEncoder":
        """Load now what the first query would otherwise wait for: the word lists and frequencies of each
        language, jieba's dictionary, the sorted word list, the projected table."""
        words("warm up 预热", self.config.char_weight)
        for probe in ("the", "的"):
            self._weight(probe)  # loads the language's frequency list (complete() reads the same one)
        self._known_latin()
        self._rows()
        from scipy.sparse import csr_matrix  # noqa: F401  (imported by encode)
        self.near("warmnup")  # rapidfuzz, imported by the first misspelt word
        return self

    def _require_fit(self) -> None:
        if self.mean is None:
            raise ConfigError("e5-static: fit the student on the store's texts first (daogou distill)")

    # ------------------------------------------------------------------ encode

    @property
    def cache_key(self) -> str:
        """The teacher's key and a digest of the fitted directions: another distillation never shares vectors."""
        if self._key is None:
            self._require_fit()
            passage = b"" if self.passage_map is None else (self.passage_map.tobytes() + json.dumps(
                sorted(self.passage_scale.items()), ensure_ascii=False).encode())
            digest = hashlib.blake2b(self.mean.tobytes() + self.components.tobytes() + passage
                                     + json.dumps(asdict(self.config)).encode(), digest_size=8).hexdigest()
            self._key = f"{self.name}@static{VERSION}-{digest}/{self.teacher.cache_key}"
        return self._key

    def _frequency(self, word: str) -> float:
        p = self._frequencies.get(word)
        if p is None:
            from wordfreq import word_frequency
            if len(self._frequencies) > 1_000_000:
                self._frequencies.clear()
            p = self._frequencies[word] = word_frequency(word, "zh" if _CJK.match(word) else "en")
        return p

    def _is_word(self, word: str) -> bool:
        """A word in its own right (at least ``FRAGMENT_MAX_ZIPF`` on wordfreq's scale): no fragment, no typo."""
        return self._frequency(word) >= 10 ** (FRAGMENT_MAX_ZIPF - 9)

    def _weight(self, word: str) -> float:
        return self.config.sif_a / (self.config.sif_a + self._frequency(word))

    def _rows(self) -> np.ndarray:
        """The word table with the shared directions removed (rows added since the last call projected now)."""
        table = self.table.matrix
        if len(self._projected) < len(table):
            self._projected.extend(self._project(table[len(self._projected):]))
        return self._projected.view()

    def _project(self, vectors: np.ndarray) -> np.ndarray:
        """Teacher vectors with the store's mean and shared directions removed."""
        out = vectors - self.mean
        if len(self.components):
            out = out - (out @ self.components.T) @ self.components
        return out

    def _known_latin(self) -> list[str]:
        """The table's Latin words in sorted order, words learned since the last call inserted."""
        names = self.table.names
        if self._latin_seen < len(names):
            with self.table._lock:  # learning appends to ``names`` under the same lock
                fresh = [w for w in names[self._latin_seen:] if w[:1].isascii() and w[:1].isalpha()]
                if len(fresh) > 64:
                    self._latin = sorted(self._latin + fresh)
                else:
                    for w in fresh:
                        bisect.insort(self._latin, w)
                for w in fresh:
                    self._by_start.setdefault((w[0], len(w)), []).append(w)
                self._latin_seen = len(names)
                self._completions.clear()
                self._near.clear()
        return self._latin

    def complete(self, word: str) -> tuple[str, ...]:
        """A query word cut off while typing ("headph"): the shortest known words it begins (at most
        ``COMPLETIONS``: "headphone", "headphones"), or () for a word that is known, too short, not Latin, or a
        word in its own right (wordfreq knows it: "cart" must not become "carter", so "cas" is no "case"
        either)."""
        if word in self.table.index or len(word) < MIN_FRAGMENT or not (word.isascii() and word.isalpha()):
            return ()
        latin = self._known_latin()
        found = self._completions.get(word)
        if found is None:
            if self._is_word(word):
                found = ()  # a word in its own right ("cart", "cove"): no completion of another
            else:
                start = bisect.bisect_left(latin, word)
                stop = bisect.bisect_left(latin, word[:-1] + chr(ord(word[-1]) + 1), start)
                candidates = latin[start:min(stop, start + 256)]
                found = tuple(sorted(candidates, key=lambda w: (len(w), w))[:COMPLETIONS])  # the shortest first
            if len(self._completions) > 100_000:
                self._completions.clear()
            self._completions[word] = found
        return found

    def near(self, word: str) -> tuple[str, ...]:
        """The known Latin words nearest a misspelt ``word`` (optimal string alignment distance 1, or 2 for a word
        of 8 letters or more), those tied at the best distance, most common first; () for a known, short or
        non-Latin word, a word in its own right ("cove" is no typo of "cover"), or when none or more than
        ``COMPLETIONS`` are that near. Only words of its first letter are searched (a typo rarely hits the first
        letter, and the search stays in the tens of microseconds)."""
        if (word in self.table.index or len(word) < MIN_FRAGMENT + 1 or not (word.isascii() and word.isalpha())
                or self._is_word(word)):
            return ()
        self._known_latin()
        found = self._near.get(word)
        if found is None:
            from rapidfuzz.distance import OSA
            from rapidfuzz.process import extract
            limit = 2 if len(word) >= 8 else 1
            pool = [w for n in range(len(word) - limit, len(word) + limit + 1)
                    for w in self._by_start.get((word[0], n), ())]
            hits = extract(word, pool, scorer=OSA.distance, score_cutoff=limit, limit=None) if pool else []
            best = min((d for _, d, _ in hits), default=None)
            tied = [w for w, d, _ in hits if d == best]
            found = tuple(sorted(tied, key=lambda w: (self._weight(w), w))) if len(tied) <= COMPLETIONS else ()
            if len(self._near) > 100_000:
                self._near.clear()
            self._near[word] = found
        return found

    def _query_words(self, ws: list[tuple[str, float]]) -> list[tuple[str, float]]:
        """A query's known words; each unknown word replaced by its completions, else by its near words (sharing
        its weight), else left out: a query never waits for the teacher."""
        out: list[tuple[str, float]] = []
        for w, share in ws:
            if w in self.table.index:
                out.append((w, share))
                continue
            done = self.complete(w) or self.near(w)
            out.extend((c, share / len(done)) for c in done)
        return out

    def _weights(self, parsed: list[list[tuple[str, float]]], column: dict[str, int],
                 scale: dict[str, float] | None = None, n_columns: int | None = None):
        """[texts, columns] sparse: each text's words at their ``column``, weighing share x SIF weight (x the
        word's passage ``scale``)."""
        from scipy.sparse import csr_matrix
        scale = scale or {}
        indptr, cols, vals = [0], [], []
        for ws in parsed:
            row: dict[int, float] = {}
            for w, share in ws:
                j = column[w]
                row[j] = row.get(j, 0.0) + share * self._weight(w) * scale.get(w, 1.0)
            cols.extend(row)
            vals.extend(row.values())
            indptr.append(len(cols))
        return csr_matrix((np.asarray(vals, dtype=np.float32), np.asarray(cols, dtype=np.int64), indptr),
                          shape=(len(parsed), len(column) if n_columns is None else n_columns))

    def encode(self, texts: Sequence[str], kind: Kind = "passage", batch_size: int = 64,
               progress: bool = False) -> np.ndarray:
        self._require_fit()
        if not len(texts):
            return np.zeros((0, self.dim), dtype=np.float32)
        parsed = [words(t, self.config.char_weight) for t in texts]
        if kind == "query":
            parsed = [self._query_words(ws) for ws in parsed]
        if kind != "query":  # a product's new words are learned (batched); a query's are stood in for
            self.table.learn((w for ws in parsed for w, _ in ws), progress=progress)
        if kind != "query" and self.config.teacher_passages:  # the teacher reads the product, in the student's space
            return self._into_space(self.teacher.encode(list(texts), kind="passage", batch_size=batch_size,
                                                        progress=progress)).astype(np.float32)
        rows = self._rows()
        weights = self._weights(parsed, self.table.index, self.passage_scale if kind != "query" else {}, len(rows))
        out = np.asarray(weights @ rows, dtype=np.float32)
        if kind != "query" and self.passage_map is not None:
            out = out @ self.passage_map
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)  # a text with no word stays zero: it matches nothing


def general_words(languages: Sequence[str], n: int, char_weight: float = 0.5) -> set[str]:
    """The ``n`` most common words of each language (wordfreq's lists), split as :func:`words` splits them."""
    if n <= 0:
        return set()
    from wordfreq import available_languages, top_n_list
    known = available_languages()
    return {w for lang in languages if lang in known for t in top_n_list(lang, n)
            for w, _ in words(t, char_weight)}


def machine_cache(teacher: TextEncoder) -> Path | None:
    """Where this machine keeps a teacher's vectors of the languages' common words (never a store's own words):
    ``$DAOGOU_CACHE_DIR``, else ``$XDG_CACHE_HOME/daogou``, else ``~/.cache/daogou``; None when set to ""."""
    root = os.environ.get("DAOGOU_CACHE_DIR")
    if root == "":
        return None
    if root is None:
        root = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
                            "daogou")
    key = hashlib.blake2b(teacher.cache_key.encode(), digest_size=8).hexdigest()
    return Path(root) / "common-words" / key


def student_name(teacher_name: str) -> str:
    """``e5-static`` for the default teacher, ``<teacher>-static`` for another."""
    return "e5-static" if teacher_name == "e5-multilingual" else f"{Path(teacher_name).name}-static"


def distill_store(store, out: Path | None = None, teacher_name: str = "e5-multilingual",
                  config: StaticConfig = StaticConfig(), progress: bool = False) -> tuple[Path, dict]:
    """Distil a student on a store's product texts (as the search index encodes them) into ``out`` (default
    ``HOME/encoders/<student name>``); returns the folder and the report. A store without products is an error."""
    from daogou.encode.base import get_encoder
    from daogou.encode.product_text import product_text
    out = out or Path(store.config.home) / "encoders" / student_name(teacher_name)
    languages = get_encoder(teacher_name).languages
    texts = [product_text(p, languages, full=False) for p in store.iter_products()]
    if not texts:
        raise ConfigError(f"{store.config.home}: the store has no products to distil on (daogou import products)")
    return out, distill(texts, out, teacher_name, config, progress)


def distill(texts: Sequence[str], out: Path, teacher_name: str = "e5-multilingual",
            config: StaticConfig = StaticConfig(), progress: bool = False) -> dict:
    """Fit a student on the store's texts and save it at ``out`` (replaced whole; words a student saved there
    before are reused, not embedded again)."""
    import time
    from daogou.encode.base import get_encoder
    from daogou.files import recover_folder, replace_folder, staging
    started = time.perf_counter()
    teacher = get_encoder(teacher_name)
    if isinstance(getattr(teacher, "instance", teacher), StaticEncoder):
        raise ConfigError(f"{teacher_name}: a static student cannot be the teacher of another")
    student = StaticEncoder(teacher, student_name(teacher_name), config)
    recover_folder(out)
    student.table.seed(out / "words")
    reused = len(student.table.index)
    student.fit(texts, progress=progress)
    report = {"texts": len(texts), "words": len(student.table.index), "words_reused": reused,
              "passage_fit": student.fit_report,
              "seconds": round(time.perf_counter() - started, 1)}
    replace_folder(student.save(staging(out), teacher_name, {"distilled_on": report}), out)
    return report
