"""Domain adaptation of the search encoder without labels (``daogou adapt``).

GenQ/GPL-style, on the store's own catalog only:

1. **Pseudo queries** for every product, written the way shoppers type them: the product type (the head of the
   title's first segment), type + one attribute word, brand + type, short spans of the title, category leaf +
   attribute value, in each language the product has (Chinese is segmented with jieba). Model numbers and
   sizes-with-units are left out; word choice favours words that tell products apart (IDF-weighted).
2. **Mined hard negatives** from the current index: the hybrid search of each pseudo query, ranks
   ``skip_top``..``depth``, skipping anything the current hybrid scores within ``false_negative_margin`` of the
   source product (the hybrid is the pseudo-labeller: a near-tie is more likely a second right answer than a
   wrong one).
3. **Contrastive fine-tuning** of the bi-encoder: in-batch negatives plus the mined negative, InfoNCE with a
   fixed temperature; batches never hold two queries of one product.

The result is an encoder folder (:mod:`daogou.encode.folder`) that ``index``, ``search``, ``train`` and ``serve``
take wherever an encoder name is accepted. Only sentence-transformers encoders (``minilm`` or a saved folder)
can be fine-tuned; the packaged multilingual e5 runs in a 4-bit inference engine with no gradients.
"""

from __future__ import annotations

import math
import random
import re
import shutil
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from daogou.catalog.models import Product
from daogou.encode.base import TextEncoder
from daogou.encode.folder import write_manifest
from daogou.errors import ConfigError

Log = Callable[[str], None]

_SEGMENT_RE = re.compile(r"\s+[-–—|/]\s+|[,，;；|()（）\[\]【】:：]")
_WORD_RE = re.compile(r"[^\W_]+(?:[.'’&+-][^\W_]+)*")
_CJK_RE = re.compile(r"[\u3400-\u9fff]")
# model numbers and measurements are not how shoppers ask: "FV-0511VQ1", "50-80-100", "5/8", "33in"
_CODE_RE = re.compile(r"^(?=.*\d)(?=.*[a-z])[a-z0-9.-]{5,}$|^[\d.,/x-]+$|^\d+(?:\.\d+)?[a-z\"']{1,3}$")
_STOP = frozenset("""a an and or the of for with without to in on by from at as is are be this that your you our it its
new pack set pcs pc piece pieces 1 2 3 4 5 6 inch inches ft feet lb lbs oz cm mm kg ml l w v x
的 了 和 与 及 款 新款 正品 包邮 官方 旗舰店""".split())


@dataclass(frozen=True)
class AdaptConfig:
    queries_per_product: int = 4
    epochs: int = 1
    batch_size: int = 32
    lr: float = 2e-5
    temperature: float = 0.05
    hard_negatives: bool = True
    skip_top: int = 3  # mined negatives start below this rank of the current hybrid list...
    depth: int = 30  # ...and end here
    false_negative_margin: float = 0.1  # skip candidates scored within this fraction of the source product
    max_tokens: int = 64
    warmup: float = 0.1
    seed: int = 0
    budget_s: float | None = None

    def __post_init__(self) -> None:
        if self.queries_per_product < 1 or self.epochs < 1 or self.batch_size < 2:
            raise ConfigError("adapt needs queries_per_product >= 1, epochs >= 1 and batch_size >= 2")
        if not 0 < self.temperature <= 1 or self.lr <= 0:
            raise ConfigError("adapt needs 0 < temperature <= 1 and lr > 0")
        if not 0 <= self.skip_top < self.depth:
            raise ConfigError("adapt needs 0 <= skip_top < depth")


# ---------------------------------------------------------------- pseudo queries

def _words(text: str) -> list[str]:
    """Lower-cased words; CJK runs segmented by jieba."""
    from daogou.search.vocab import cut_words
    out: list[str] = []
    for w in _WORD_RE.findall(unicodedata.normalize("NFKC", text).lower()):
        if _CJK_RE.search(w):
            out.extend(x for x in cut_words(w) if _WORD_RE.fullmatch(x))
        else:
            out.append(w)
    return out


def _content(words: Sequence[str]) -> list[str]:
    return [w for w in words if w not in _STOP and not _CODE_RE.match(w) and len(w) > (0 if _CJK_RE.search(w) else 1)]


def _join(words: Sequence[str]) -> str:
    """Chinese words touch, other words take a space."""
    out = ""
    for w in words:
        touch = out and _CJK_RE.search(out[-1]) and _CJK_RE.search(w[0])
        out += w if (not out or touch) else " " + w
    return out


class QueryWriter:
    """Writes shopper-like queries for products; ``idf`` comes from the catalog the products belong to."""

    def __init__(self, products: Sequence[Product], seed: int = 0):
        self.rng = random.Random(seed)
        df: Counter[str] = Counter()
        for p in products:
            df.update(set(_content(_words(" ".join(t for lang in self._languages(p) for t in self._title(p, lang))))))
        n = max(len(products), 1)
        self.idf = {w: math.log(1 + n / c) for w, c in df.items()}

    @staticmethod
    def _languages(p: Product) -> list[str]:
        return [p.language or "en", *[lang for lang in p.translations if lang != p.language]]

    @staticmethod
    def _title(p: Product, lang: str) -> tuple[str, str]:
        title, _ = p.text(lang)
        category = p.translations.get(lang, {}).get("category") if lang != (p.language or "en") else None
        leaf = (category or "").split(">")[-1].strip() or (p.category[-1] if p.category else "")
        return title or "", leaf

    def _pick(self, words: Sequence[str], k: int) -> list[str]:
        """``k`` distinct words, IDF-weighted, in title order."""
        pool = list(dict.fromkeys(words))
        chosen: list[str] = []
        while pool and len(chosen) < k:
            w = self.rng.choices(pool, weights=[self.idf.get(x, 1.0) for x in pool])[0]
            chosen.append(w)
            pool.remove(w)
        return sorted(chosen, key=list(words).index)

    def queries(self, p: Product, n: int) -> list[str]:
        out: list[str] = []
        for lang in self._languages(p):
            title, leaf = self._title(p, lang)
            if not title.strip():
                continue
            head = next((s for s in _SEGMENT_RE.split(title) if _content(_words(s))), title)
            head_words = _content(_words(head))
            all_words = _content(_words(title))
            brand = _content(_words(p.brand)) if p.brand else []
            head_nb = [w for w in head_words if w not in brand] or head_words
            kind = head_nb[-2:] if len(head_nb) >= 2 and self.rng.random() < 0.6 else head_nb[-1:]
            others = [w for w in all_words if w not in kind and w not in brand]
            attrs = [str(v).lower() for v in p.attributes.values() if isinstance(v, str) and 0 < len(v) <= 20]
            leaf_words = _content(_words(leaf))
            cands = [kind,
                     self._pick(others, 1) + kind,
                     (brand[:1] + kind) if brand else self._pick(others, 2) + kind,
                     self._pick(all_words, self.rng.randint(2, 4)),
                     self._span(all_words),
                     (attrs[:0] + self._pick(attrs, 1) + (leaf_words or kind)) if attrs else self._pick(others, 1) + leaf_words]
            for c in cands:
                q = _join(c)
                if q and q not in out:
                    out.append(q)
        self.rng.shuffle(out)
        return out[:n]

    def _span(self, words: Sequence[str]) -> list[str]:
        if len(words) <= 2:
            return list(words)
        k = self.rng.randint(2, min(4, len(words)))
        i = self.rng.randrange(len(words) - k + 1)
        return list(words[i:i + k])


def pseudo_queries(products: Sequence[Product], per_product: int = 4, seed: int = 0) -> list[tuple[str, int]]:
    """(query, product index) pairs: up to ``per_product`` queries per product."""
    writer = QueryWriter(products, seed)
    return [(q, i) for i, p in enumerate(products) for q in writer.queries(p, per_product)]


# ---------------------------------------------------------------- negatives

def mine_negatives(search: Callable[[str, int], list[tuple[int, float]]], pairs: Sequence[tuple[str, int]],
                   config: AdaptConfig) -> list[int | None]:
    """One hard negative per pair from ``search(query, depth) -> [(product index, score)]`` (best first)."""
    rng = random.Random(config.seed + 1)
    out: list[int | None] = []
    for query, pos in pairs:
        hits = search(query, config.depth)
        own = next((s for i, s in hits if i == pos), None)
        pool = [i for r, (i, s) in enumerate(hits) if r >= config.skip_top and i != pos
                and (own is None or s < own * (1 - config.false_negative_margin))]
        out.append(rng.choice(pool) if pool else None)
    return out


# ---------------------------------------------------------------- training

def fine_tune(model, pairs: Sequence[tuple[str, int]], negatives: Sequence[int | None], passages: Sequence[str],
              config: AdaptConfig, progress: bool = True, log: Log = print) -> list[dict[str, float]]:
    """InfoNCE over (query, its product, its mined negative) with in-batch negatives; returns the loss curve."""
    import torch
    from tqdm.auto import tqdm
    torch.manual_seed(config.seed)
    rng = random.Random(config.seed + 2)
    model.max_seq_length = config.max_tokens
    batches_per_epoch = _batches(pairs, config.batch_size, rng)
    total = len(batches_per_epoch) * config.epochs
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=0.01)
    warm = max(1, int(total * config.warmup))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (total - s) / total))
    started, curve, step = time.perf_counter(), [], 0
    for epoch in range(1, config.epochs + 1):
        model.train()
        batches = batches_per_epoch if epoch == 1 else _batches(pairs, config.batch_size, rng)
        losses = []
        for batch in tqdm(batches, desc=f"adapt epoch {epoch}", disable=not progress, leave=False):
            queries = [pairs[j][0] for j in batch]
            docs = [pairs[j][1] for j in batch]
            negs = [n for j in batch if (n := negatives[j]) is not None and n not in docs] if config.hard_negatives else []
            q = _embed(model, queries)
            d = _embed(model, [passages[i] for i in docs + negs])
            logits = q @ d.T / config.temperature
            loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(batch)))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            step += 1
            losses.append(float(loss.detach()))
            if config.budget_s and time.perf_counter() - started > config.budget_s:
                break
        curve.append({"epoch": epoch, "loss": round(float(np.mean(losses)), 4) if losses else None, "steps": step})
        log(f"epoch {epoch}: contrastive loss {curve[-1]['loss']} ({step} steps)")
        if config.budget_s and time.perf_counter() - started > config.budget_s:
            break
    model.eval()
    return curve


def _batches(pairs: Sequence[tuple[str, int]], size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches with each product at most once (a second query of it would be a false negative)."""
    order = list(range(len(pairs)))
    rng.shuffle(order)
    open_: list[tuple[list[int], set[int]]] = []
    done: list[list[int]] = []
    for j in order:
        prod = pairs[j][1]
        slot = next((b for b in open_ if prod not in b[1]), None)
        if slot is None:
            slot = ([], set())
            open_.append(slot)
        slot[0].append(j)
        slot[1].add(prod)
        if len(slot[0]) == size:
            done.append(slot[0])
            open_.remove(slot)
    done += [b for b, _ in open_ if len(b) >= 2]
    rng.shuffle(done)
    return done


def _embed(model, texts: list[str]):
    import torch
    features = (getattr(model, "preprocess", None) or model.tokenize)(texts)
    out = model(features)["sentence_embedding"]
    return torch.nn.functional.normalize(out, dim=-1)


# ---------------------------------------------------------------- the whole job

def trainable(encoder: TextEncoder):
    """The sentence-transformers model behind ``encoder`` and its folder, or a ConfigError saying why not."""
    inner = getattr(encoder, "instance", encoder)
    model = getattr(inner, "model", None)
    if model is None or not hasattr(model, "tokenize"):
        raise ConfigError(f"encoder {encoder.name!r} cannot be fine-tuned (it has no trainable model); "
                          "adapt a sentence-transformers encoder: --encoder minilm or a saved encoder folder")
    return inner, model


def adapt(products: Sequence[Product], passages: Sequence[str],
          search: Callable[[str, int], list[tuple[int, float]]], encoder: TextEncoder, out: Path,
          config: AdaptConfig = AdaptConfig(), name: str | None = None, progress: bool = True,
          log: Log = print) -> dict[str, Any]:
    """Fine-tune a copy of ``encoder`` on pseudo queries of ``products`` and save it as an encoder folder.

    ``passages[i]`` is how product i reads to the encoder; ``search`` is the current hybrid search (mining)."""
    import copy
    inner, base_model = trainable(encoder)
    if len(products) < config.batch_size:
        raise ConfigError(f"adapt needs at least {config.batch_size} products (the batch size); the store has "
                          f"{len(products)}")
    started = time.perf_counter()
    pairs = pseudo_queries(products, config.queries_per_product, config.seed)
    log(f"{len(pairs):,} pseudo queries for {len(products):,} products")
    negatives = mine_negatives(search, pairs, config) if config.hard_negatives else [None] * len(pairs)
    mined = sum(n is not None for n in negatives)
    log(f"{mined:,} hard negatives mined from the current index")
    with getattr(encoder, "lock", _NoLock()):
        model = copy.deepcopy(base_model)
    curve = fine_tune(model, pairs, negatives, passages, config, progress, log)
    report = {"products": len(products), "pseudo_queries": len(pairs), "hard_negatives": mined,
              "examples": [q for q, _ in pairs[:8]], "epochs": curve, "config": asdict(config),
              "base": inner.cache_key, "seconds": round(time.perf_counter() - started, 1)}
    _save(model, Path(out), name or Path(out).name, inner, report)
    return report


class _NoLock:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _save(model, out: Path, name: str, base, report: dict[str, Any]) -> None:
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save(str(tmp), safe_serialization=True)
    write_manifest(tmp, name, f"{base.model_id}+adapt", tuple(base.languages), adapt=report)
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
