"""The search engine: understand the query, filter, retrieve lexically and densely, fuse, explain.

``Searcher.build(store)`` indexes the catalog (embeddings come from the store's cache, so only changed
products are encoded); ``search(query, k, filters)`` returns hits with the signals that matched.
"""

from __future__ import annotations

import re

from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from rapidfuzz.distance import Levenshtein
from scipy import sparse

from daogou.catalog.models import Product
from daogou.catalog.store import Store
from daogou.encode import EmbeddingCache, TextEncoder, get_encoder, product_text
from daogou.errors import ConfigError, ValidationError
from daogou.search.dense import DenseIndex, iter_chunks
from daogou.catalog.filters import CatalogTable, Filters
from daogou.search.hybrid import ranked, rrf, weighted
from daogou.search.lexical import BM25Index, stem_word
from daogou.search.coverage import FILLER, MATCHED, Coverage, content_words, coverage, unknown_names
from daogou.search.currency import DEFAULT_RATES, load_rates
from daogou.search.query import ParsedQuery, parse_query
from daogou.search.interests import Interest, Interests
from daogou.search.synonyms import store_groups
from daogou.search.vocab import CJK_RE, Vocabulary

MODES = ("hybrid", "lexical", "dense")
MAX_K = 1000
CATEGORY_MARGIN = 0.08  # embedding category intent: top similarity must beat the median by this much
# A need told as a person's interest ("my dad jogs every morning, gift?"): the category it points to must beat the
# runner-up by the encoder's ``interest_margin``, in similarity gained over a gift request that tells nothing ...
INTEREST_NEIGHBOURS, INTEREST_SHARE = 30, 0.6  # ... and that category must hold this share of the nearest products
# Requests that tell nothing about the person: what any gift request resembles before it says what they like.
PLAIN_REQUESTS = {"en": ("a gift for my friend", "something for my mom's birthday", "what should i get my boss",
                         "present for my wife"),
                  "zh": ("送朋友一个礼物", "给妈妈买个生日礼物", "送领导什么好", "想给老婆买个礼物")}
# When a query's constraints match nothing, they are dropped one at a time in this order (exclusions never are).
# a title's name part ends before its specs ("Laptop Backpack, 15L, Large"; "Phone Case Shockproof for 6.7\" phones"),
# and these words after a product's name are not its kind ("Spatula Set", "Brick Car Kit", "Hiking Boots Size 41")
_TITLE_NAME = re.compile(r",|\(|（|\s(?:for|with|-|–|\|)\s")
_TITLE_TAIL = frozenset("set sets kit pack bundle pair pairs pcs piece pieces size one edition version".split())
RELAX_ORDER = ("brand", "price", "category")
RELAX_FIELDS = {"brand": {"brands": ()}, "price": {"price_min": None, "price_max": None},
                "category": {"categories": ()}}
SORT_RELEVANCE = 0.5  # "cheapest X" sorts by price only the candidates scoring at least this share of the best


@dataclass(frozen=True)
class SearchConfig:
    encoder: str = "e5-multilingual"
    candidates: int = 100  # per signal, before fusion
    # Weighted fusion of min-max-normalised scores; lexical 0.4 : dense 1.0 was chosen on half of the ESCI
    # queries (bench/search.py) and holds on the other half. "rrf" (reciprocal-rank fusion) is the alternative.
    fusion: str = "weighted"
    rrf_k: int = 60
    weights: dict[str, float] = field(default_factory=lambda: {"lexical": 0.4, "dense": 1.0, "attributes": 1.0,
                                                               "category": 0.3, "image": 0.5})
    understand: bool = True  # parse prices, brands, categories, attributes, sort words out of the query
    # Pictures (daogou/search/images.py): an image encoder name turns them on. "list": aligned picture vectors
    # are one more ranked list in the fusion (weight "image"); "concat": one dense index over [x_t; w·x_i].
    images: str | None = None
    image_fusion: str = "list"
    image_weight: float = 0.5  # w of the concat fusion
    # The behaviour re-ranker (daogou/search/rerank.py) re-orders the hybrid list once one is trained for this
    # store and encoder (daogou train --model reranker); False keeps the plain hybrid order.
    rerank: bool = True

    def __post_init__(self) -> None:
        if self.images:
            from daogou.search.images import check_image_fusion
            check_image_fusion(self.image_fusion)


@dataclass
class Hit:
    product_id: str
    score: float
    signals: dict[str, float]
    product: Product


@dataclass
class SearchResults:
    hits: list[Hit]
    total: int  # products that pass the filters
    parsed: ParsedQuery | None
    filters: Filters
    facets: dict[str, dict[str, int]]
    mode: str
    relaxed: list[str] = field(default_factory=list)  # query-derived constraints dropped, weakest first
    matched: bool = True  # False: the catalog has none of the query's words for a product (daogou.search.coverage)
    unmatched: list[str] = field(default_factory=list)  # the query's content words no product's text uses

    def ids(self) -> list[str]:
        return [h.product_id for h in self.hits]

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict
        return {"mode": self.mode, "total": self.total, "relaxed": self.relaxed, "matched": self.matched,
                "unmatched": self.unmatched,
                "parsed": asdict(self.parsed) if self.parsed else None, "filters": asdict(self.filters),
                "facets": self.facets,
                "hits": [{"id": h.product_id, "score": round(h.score, 6), "signals": h.signals,
                          "title": h.product.title, "brand": h.product.brand, "price": h.product.price,
                          "currency": h.product.currency, "category": " > ".join(h.product.category)}
                         for h in self.hits]}


class Searcher:
    def __init__(self, products: list[Product], encoder: TextEncoder, dense: DenseIndex, lexical: BM25Index,
                 vocab: Vocabulary, config: SearchConfig):
        self.products, self.encoder, self.dense, self.lexical = products, encoder, dense, lexical
        self.vocab, self.config = vocab, config
        self.table = CatalogTable(products)
        self.categories = [c for c in self.table.category_names if c]
        self._category_vectors: np.ndarray | None = None
        self._interest_table: tuple[list[str], np.ndarray, dict[str, np.ndarray]] | None = None
        self._kinds: dict[str, frozenset[str]] | None = None  # stems of the words the titles name their products
                                                              # with (names_kind) → the departments they name
        self._keys: set[str] = set()         # and of the catalog's attribute keys ("length", "battery")
        self._query_vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._understood: dict[str, tuple] = {}
        self.images = None  # ImageSignals, set by attach_images
        self.rates: dict[str, float] | None = None  # currency rates (daogou.search.currency); None: the defaults
        self.fused_dense: DenseIndex | None = None
        self.reranker = None  # a trained rerank.Reranker for this encoder, if any
        self.popularity = None  # a catalog.popularity.StorePopularity: "best sellers" come most bought first
        self.interests = Interests.built_in()  # what pastimes and troubles ask for (the store's own lines: for_store)
        self._by_id: dict[str, Product] | None = None

    @classmethod
    def build(cls, store: Store, config: SearchConfig = SearchConfig(), progress: bool = False,
              passages: TextEncoder | None = None) -> "Searcher":
        """Index the store's catalog; ``passages`` (same cache key as the config's encoder, e.g. a
        ``RayBatchEncoder``) encodes the products that are not in the cache yet."""
        products = list(store.iter_products())
        encoder = get_encoder(config.encoder)
        texts = [product_text(p, encoder.languages, full=False) for p in products]
        vectors = EmbeddingCache(store).encode(passages or encoder, texts, "passage", progress)
        lexical = BM25Index.build([product_text(p) for p in products])
        searcher = cls(products, encoder, DenseIndex(vectors), lexical, store_vocabulary(store, products), config)
        searcher.rates = store_rates(store)
        if config.rerank:
            searcher.reranker = load_reranker(store, encoder.cache_key)
        if config.images:
            searcher.attach_images(store, progress)
        return searcher

    def attach_images(self, store: Store, progress: bool = False) -> None:
        """Load (or train on first use) the store's text–image alignment and index the pictures."""
        from daogou.search.images import ImageSignals
        if not self.config.images:
            raise ConfigError("attach_images needs SearchConfig.images (an image encoder name)")
        self.images = ImageSignals.build(store, self.config.encoder, self.config.images, self.products, progress)
        if self.config.image_fusion == "concat":
            self.fused_dense = self.images.fused_text_index(self.dense.vectors, self.config.image_weight)

    def search_image(self, store: Store, path, k: int = 10, filters: Filters | None = None) -> SearchResults:
        """Products that look like the picture at ``path`` (filters apply as in text search)."""
        if self.images is None:
            raise ConfigError("search by image needs an index with pictures (SearchConfig.images)")
        if not 1 <= k <= MAX_K:
            raise ValidationError("k", f"must be between 1 and {MAX_K}")
        filters = filters or Filters()
        mask = self.table.mask(filters)
        idx, sc = self.images.by_picture(store, path, k, mask)
        lists, scores = {"picture": idx.tolist()}, {"picture": dict(zip(idx.tolist(), sc.tolist()))}
        hits = [self._hit(int(r), float(s), lists, scores) for r, s in zip(idx, sc)]
        rows = None if mask is None else np.flatnonzero(mask)
        total = len(self.table) if mask is None else int(mask.sum())
        return SearchResults(hits, total, None, filters, self.table.facets(rows), "image")

    # ---------------------------------------------------------------- query side
    def history_of(self, rows):
        """A shopper's ``rerank.History`` from their event rows (``Store.event_rows``), for personal re-ranking."""
        from daogou.search.rerank import history_of
        if self._by_id is None:
            self._by_id = {p.id: p for p in self.products}
        return history_of(rows, self._by_id)

    def query_vector(self, text: str) -> np.ndarray:
        vec = self._query_vectors.get(text)
        if vec is None:
            vec = self.encoder.encode([text], kind="query")[0]
            self._query_vectors[text] = vec
            if len(self._query_vectors) > 512:
                self._query_vectors.popitem(last=False)
        return vec

    def category_intent(self, text: str) -> tuple[str, float] | None:
        """The category the query's embedding points to, when it clearly stands out (else None)."""
        if not self.categories or not text.strip():
            return None
        if self._category_vectors is None:
            names = [c.replace(" > ", " ") for c in self.categories]
            self._category_vectors = self.encoder.encode(names, kind="passage")
        sims = self._category_vectors @ self.query_vector(text)
        best = int(np.argmax(sims))
        if sims[best] - float(np.median(sims)) < CATEGORY_MARGIN:
            return None
        return self.categories[best], float(sims[best])

    def told_interest(self, text: str) -> tuple[Interest, str | None] | None:
        """The interest ``text`` tells, by the interest lines ("she bakes every weekend", "手机老是没电"), with the
        store's category that serves it: that of the line's first kind the store's vocabulary names (of the first
        interest told that the store serves, when several are), or None when the store sells none of them. None
        when no line matches."""
        told = self.interests.find_all(text)
        for found in told:  # "loves gardening and cooking": the first the store has something for
            for kind in found.kinds:
                parsed = self.understand(kind)[0]
                if parsed is not None and len(parsed.categories) == 1:
                    return found, parsed.categories[0]
        return (told[0], None) if told else None

    def interest_names_product(self, found: Interest, text: str, parsed: ParsedQuery) -> bool:
        """Whether the words in ``text`` that tell ``found`` name a kind of product the store may lack ("running
        shorts", "跑步短裤"): said before an unknown word, or (中文, no spaces) just before the one word that ends
        the unknown need coverage finds. ``parsed``: ``text`` understood."""
        if found.modifies(text, lambda w: w not in FILLER and not self.lexical.knows(w)):
            return True
        said = found.span(text)
        if not CJK_RE.search(said):
            return False
        cov = self.coverage(parsed)
        head = re.search(re.escape(said) + r"([\u3400-\u9fff]{1,4})$", cov.phrase.lower()) if not cov.matched else None
        return head is not None and len(head.group(1)) > 1 and [head.group(1)] == content_words(head.group(1))

    def _with_interest(self, parsed: ParsedQuery | None, derived: Filters,
                       explicit: Filters) -> tuple[ParsedQuery | None, Filters, bool]:
        """A query that names no kind, brand or category but tells an interest or trouble the store serves
        ("something warm for cold winter nights", "gift for someone who loves baking") searches the category the
        interest lines give it (as the chat does), unless a word outside what told it names a product the store
        lacks; the words that told it count as understood and the store serves the need. Anything else is
        returned as it is. → (parsed, derived, whether an interest gave the category)."""
        if parsed is None or parsed.categories or parsed.brands or explicit.categories or explicit.brands:
            return parsed, derived, False
        told = self.told_interest(parsed.text)
        if told is None or told[1] is None or self.interest_names_product(told[0], parsed.text, parsed) or \
                unknown_names(parsed.text, list(told[0].spans), self.lexical.knows):
            return parsed, derived, False  # "earplugs for sleeping", "跑步机": a product the store lacks is named
        found, category = told
        said = found.span(parsed.text)
        parsed = replace(parsed, categories=[category], known={**parsed.known, said: "category"},
                         matched=[*parsed.matched, f"category {category} from '{said}'"])
        return parsed, replace(derived, categories=(category,)), True

    def interest_category(self, text: str, language: str = "en") -> tuple[str, float] | None:
        """The category a need told as a person's interest points to ("she's obsessed with cooking shows",
        "老公最近迷上爬山了"), or None when it tells nothing about what to buy ("something for my mom").

        The message's vector less the mean of plain gift requests in its language (gift words lean towards some
        categories whatever the person likes) scores each category by its name and its products' mean; the
        best must beat the runner-up by the encoder's ``interest_margin`` and hold most of the products nearest that vector."""
        needed = getattr(self.encoder, "interest_margin", None)  # measured per model: similarities differ in scale
        if needed is None or len(self.categories) < 2 or not text.strip() or language not in self.encoder.languages:
            return None
        names, table, plain = self._interests()
        told = self.query_vector(text) - plain.get(language, plain["en"])
        gained = table @ told
        order = np.argsort(-gained)
        margin = float(gained[order[0]] - gained[order[1]])
        if margin < needed:
            return None
        rows, _ = self.dense.search(told, INTEREST_NEIGHBOURS)
        if not len(rows):
            return None
        codes = self.table.category_codes[rows]
        if np.mean(np.asarray(self.table.category_names)[codes] == names[order[0]]) < INTEREST_SHARE:
            return None
        return names[order[0]], margin

    def _interests(self) -> tuple[list[str], np.ndarray, dict[str, np.ndarray]]:
        """(category names, [categories, dim] name vector + mean of the products' vectors, per language the mean
        vector of the plain requests); built on first use (one pass over the product vectors)."""
        if self._interest_table is None:
            codes, names = self.table.category_codes, self.table.category_names
            sums = np.zeros((len(names), self.dense.dim), np.float64)
            for lo, block in iter_chunks(self.dense.vectors, self.dense.config.chunk):
                rows = codes[lo:lo + len(block)]
                sums += sparse.csr_matrix((np.ones(len(rows)), (rows, np.arange(len(rows)))),
                                          shape=(len(names), len(rows))) @ block
            keep = [i for i, name in enumerate(names) if name]
            means = sums[keep] / np.maximum(np.linalg.norm(sums[keep], axis=1, keepdims=True), 1e-12)
            kept = [names[i] for i in keep]
            by_name = self.encoder.encode([n.replace(" > ", " ") for n in kept], kind="passage")
            plain = {lang: self.encoder.encode(list(texts), kind="query").mean(0)
                     for lang, texts in PLAIN_REQUESTS.items()}
            self._interest_table = (kept, (by_name + means).astype(np.float32), plain)
        return self._interest_table

    def understand(self, query: str) -> tuple[ParsedQuery | None, Filters, str]:
        """(parsed query, the filters it implies, the free text). Remembered for the last 1,024 queries: the
        answer depends only on the query and the catalog's vocabulary. Callers must not change what it returns."""
        text = _clean(query)
        if not self.config.understand:
            return None, Filters(), text
        known = self._understood.get(text)
        if known is not None:
            return known
        parsed = parse_query(text, self.vocab, rates=self.rates)
        derived = Filters(categories=tuple(parsed.categories), brands=tuple(parsed.brands),
                          exclude_brands=tuple(parsed.exclude_brands), price_min=parsed.price_min,
                          price_max=parsed.price_max,
                          exclude_attributes={k: tuple(v) for k, v in parsed.exclude_attributes.items()})
        self._understood[text] = (parsed, derived, parsed.text)
        if len(self._understood) > 1024:
            self._understood.pop(next(iter(self._understood)), None)
        return parsed, derived, parsed.text

    def warm(self) -> None:
        """Load what query understanding loads on first use (jieba's dictionary, pinyin, the English word list,
        the typo index), so the first shopper does not wait for it."""
        parse_query("想买个耳机，三百以内 hedphones", self.vocab, rates=self.rates)

    def needs_encoding(self, query: str) -> bool:
        """Whether searching ``query`` would run the text encoder (its vector is not remembered yet)."""
        text = self.understand(query)[2]
        return bool(text.strip()) and text not in self._query_vectors

    # ---------------------------------------------------------------- search
    def search(self, query: str, k: int = 10, filters: Filters | None = None, mode: str = "hybrid",
               facets: bool = True, history=None, rerank: bool = True) -> SearchResults:
        """``history`` (a ``rerank.History`` of the signed-in shopper) personalises the behaviour re-ranker, which
        re-orders the top of the hybrid list when one is trained; ``rerank=False`` gives the plain hybrid order."""
        if mode not in MODES:
            raise ConfigError(f"unknown search mode {mode!r}; expected one of {', '.join(MODES)}")
        if not 1 <= k <= MAX_K:
            raise ValidationError("k", f"must be between 1 and {MAX_K}")
        explicit = filters or Filters()
        parsed, derived, text = self.understand(query)
        parsed, derived, interest = self._with_interest(parsed, derived, explicit)
        combined = explicit.merged(derived)
        mask, relaxed = self.table.mask(combined), []
        for step in RELAX_ORDER:  # nothing matches: drop the weakest query-derived constraint first, and say so
            if mask is None or mask.any() or not _has(derived, step):
                continue
            derived = replace(derived, **RELAX_FIELDS[step])
            relaxed.append(step)
            combined = explicit.merged(derived)
            mask = self.table.mask(combined)
        total = len(self.table) if mask is None else int(mask.sum())
        lists, scores = self._signals(text or "", parsed, mask, mode)
        order = self._fuse(lists, scores)
        order = self._sorted(order, parsed, k)
        if parsed is not None and parsed.attributes and mode == "hybrid":
            order = self._wanted_first(text or "", parsed, mask, order, k, lists, scores)
        if parsed is not None and parsed.exclude_words:
            order = self._without_words(order, parsed.exclude_words)
        reranker = self.reranker if rerank and mode == "hybrid" and not (parsed and parsed.sort) else None
        if reranker is not None:
            pool = [self._hit(row, sc, lists, scores) for row, sc in order[:max(k, reranker.config.candidates)]]
            hits = reranker.rerank(pool, history)[:k]
        else:
            hits = [self._hit(row, order_score, lists, scores) for row, order_score in order[:k]]
        rows = None if mask is None else np.flatnonzero(mask)
        cover = MATCHED if interest else self.coverage(parsed)
        facet_counts = self.table.facets(rows, key=combined.key()) if facets else {}
        return SearchResults(hits, total, parsed, combined, facet_counts, mode, relaxed,
                             cover.matched, list(cover.unmatched))

    def _without_words(self, order: list[tuple[int, float]], words: list[str]) -> list[tuple[int, float]]:
        """The candidates whose titles (any language) do not say a negated word ("not over-ear"); all of them when
        every candidate says it (the word then describes the kind, and dropping it all would show nothing)."""
        def says(row: int) -> bool:
            p = self.products[row]
            titles = " ".join([p.title, *((t or {}).get("title", "") for t in (p.translations or {}).values())])
            low = titles.lower()
            return any(w in low for w in words)
        kept = [pair for pair in order if not says(pair[0])]
        return kept or order

    def coverage(self, parsed: ParsedQuery | None) -> Coverage:
        """Whether the catalog sells what ``parsed`` asks for, by the words its products use."""
        if parsed is None or not parsed.text.strip():
            return MATCHED
        structured = bool(parsed.categories or parsed.brands or parsed.attributes or parsed.exclude_brands)
        # a need that names a brand, or one of the store's kinds outside what it is for, is judged by its words
        # alone; one that names none is also judged by its head ("do you sell laptops?": a word the store uses,
        # not for what it sells; "screen protector for my phone": the phone is what it is for)
        typo_kind = bool(parsed.categories) and any(n.startswith("typo ") for n in parsed.matched)  # "chargr"
        judged = not (parsed.brands or typo_kind)
        return coverage(self._kind_typos(parsed), self._overlapping_kinds(parsed), structured, self.lexical.knows,
                        self.names_kind if judged else None, self.kind_departments if judged else None)

    def _overlapping_kinds(self, parsed: ParsedQuery) -> dict[str, str]:
        """``parsed.known`` with the names of the understood categories that a longer match hid: "damaged hair
        care" reads "damaged hair" as the value, and "hair care" still names the kind asked for."""
        known = dict(parsed.known)
        if not parsed.categories:
            return known
        for c in self.vocab.candidates(parsed.text):
            if c.kind == "category" and c.alias not in known and \
                    any(p == q or q.startswith(p + " > ") for p in c.paths for q in parsed.categories):
                known[c.alias] = "category"
        return known

    def _kind_typos(self, parsed: ParsedQuery) -> str:
        """``parsed.text`` with a word one edit from a title's kind of the asked department read as that kind
        ("yoga matt": the typo checker leaves "matt", a real word, alone; here it can only be the mat)."""
        depts = {c.split(" > ")[0] for c in parsed.categories}
        if not depts:
            return parsed.text
        kinds = self._title_kinds()

        def fix(m: re.Match) -> str:
            word = m.group()
            if len(word) < 4 or self.lexical.knows(word.lower()):
                return word
            near = [k for k, d in kinds.items() if d & depts and len(k) >= 3
                    and Levenshtein.distance(stem_word(word.lower()), k, score_cutoff=1) <= 1]
            return near[0] if len(near) == 1 else word
        return re.sub(r"[A-Za-z]+", fix, parsed.text)

    def names_kind(self, word: str) -> bool:
        """Whether an English ``word`` names a kind of product the store sells: a category's word, or the word its
        titles name the product with (the last of the title's name part: "Laptop Backpack, 15L" → backpack;
        "Hiking Boots Size 41" → boots; "Phone Case Shockproof for 6.7\" phones" → case)."""
        kinds = self._title_kinds()
        stem = stem_word(word.lower())
        if stem in kinds or stem in self._keys:
            return True
        if len(stem) >= 5:  # "chargr": a kind's word with a typo (one edit; two in a long word)
            most = 2 if len(stem) >= 8 else 1
            if any(Levenshtein.distance(stem, k, score_cutoff=most) <= most for k in kinds):
                return True
        parsed = self.understand(word)[0]
        return parsed is not None and bool(parsed.categories)

    def kind_departments(self, word: str) -> tuple[frozenset[str], bool]:
        """(the departments — top-level categories — whose products an English ``word`` names, whether it is the
        store's own noun for a product or a property: a word its titles name products with, or an attribute key):
        "backpack" → ({Bags}, True), "running" → ({Shoes}, False), "cover" (of "Duvet Cover Set") → ({Home}, True),
        "storage" → (∅, True), any other word → (∅, False)."""
        kinds = self._title_kinds()
        stem = stem_word(word.lower())
        if stem in kinds:
            return kinds[stem], True
        if stem in self._keys:
            return frozenset(), True
        parsed = self.understand(word)[0]
        if parsed is None or not parsed.categories or parsed.attributes or parsed.brands:
            return frozenset(), False
        return frozenset(c.split(" > ")[0] for c in parsed.categories), False

    def _title_kinds(self) -> dict[str, frozenset[str]]:
        if self._kinds is None:
            kinds: dict[str, set[str]] = {}
            for p in self.products:
                values = {t for v in p.attributes.values() for t in str(v).lower().split()}
                values |= set(p.brand.lower().split())
                title = p.text("en")[0].lower() if p.language != "en" and "en" in p.translations else p.title.lower()
                name = _TITLE_NAME.split(title, 1)[0]
                tokens = re.findall(r"[a-z][a-z'-]*|\S+", name)
                while tokens and (tokens[-1] in values or tokens[-1] in _TITLE_TAIL
                                  or any(c.isdigit() for c in tokens[-1]) or not tokens[-1][0].isalpha()):
                    tokens.pop()
                if tokens:
                    kinds.setdefault(stem_word(tokens[-1]), set()).add(p.category[0] if p.category else "")
            self._kinds = {k: frozenset(v) for k, v in kinds.items()}
            self._keys = {stem_word(w) for key in self.vocab.key_values for w in key.lower().split("_")}
        return self._kinds

    def _signals(self, text: str, parsed: ParsedQuery | None, mask: np.ndarray | None,
                 mode: str) -> tuple[dict[str, list[int]], dict[str, dict[int, float]]]:
        n = self.config.candidates
        lists: dict[str, list[int]] = {}
        scores: dict[str, dict[int, float]] = {}
        if not text.strip():
            return lists, scores
        if mode in ("hybrid", "lexical"):
            idx, sc = self.lexical.search(text, n, mask)
            lists["lexical"], scores["lexical"] = idx.tolist(), dict(zip(idx.tolist(), sc.tolist()))
        if mode in ("hybrid", "dense"):
            q = self.query_vector(text)
            if self.fused_dense is not None:
                idx, sc = self.fused_dense.search(np.concatenate([q, q]), n, mask)
            else:
                idx, sc = self.dense.search(q, n, mask)
            lists["dense"], scores["dense"] = idx.tolist(), dict(zip(idx.tolist(), sc.tolist()))
            if self.images is not None and self.fused_dense is None:
                idx, sc = self.images.by_text(q, n, mask)
                lists["image"], scores["image"] = idx.tolist(), dict(zip(idx.tolist(), sc.tolist()))
        if mode == "hybrid":
            self._soft_signals(text, parsed, mask, lists)
        return lists, scores

    def _soft_signals(self, text: str, parsed: ParsedQuery | None, mask: np.ndarray | None,
                      lists: dict[str, list[int]]) -> None:
        """Wanted attribute values and embedding category intent rank candidates, without filtering."""
        pool = list(dict.fromkeys(lists.get("dense", []) + lists.get("lexical", [])))
        if parsed and parsed.attributes:
            m = self.table.mask(Filters(attributes={k: tuple(v) for k, v in parsed.attributes.items()}))
            lists["attributes"] = [r for r in pool if m[r]]
        if parsed is not None and not parsed.categories:
            intent = self.category_intent(text)
            if intent:
                m = self.table.mask(Filters(categories=(intent[0],)))
                lists["category"] = [r for r in pool if m[r]]

    def _fuse(self, lists: dict[str, list[int]], scores: dict[str, dict[int, float]]) -> list[tuple[int, float]]:
        if not lists:
            return []
        if self.config.fusion == "weighted":
            by_signal = {**scores, **{name: {r: 1.0 for r in rows} for name, rows in lists.items()
                                      if name not in scores}}
            fused = weighted(by_signal, self.config.weights)
        else:
            fused = rrf(lists, self.config.rrf_k, self.config.weights)
        return [(r, fused[r]) for r in ranked(fused)]

    def _sorted(self, order: list[tuple[int, float]], parsed: ParsedQuery | None, k: int) -> list[tuple[int, float]]:
        """"cheapest …": the most relevant candidates, cheapest first ("best sellers": most bought first)."""
        popular = parsed is not None and parsed.sort == "popular" and self.popularity is not None
        if not parsed or (parsed.sort not in ("price_asc", "price_desc") and not popular) or not order:
            return order
        best = order[0][1]
        head = [rs for rs in order[:max(3 * k, 30)] if best <= 0 or rs[1] >= SORT_RELEVANCE * best]
        if popular:
            score, ids = self.popularity.scores(), self.table.ids
            head = sorted(head, key=lambda rs: -score.get(ids[rs[0]], 0.0))
        else:
            sign = 1 if parsed.sort == "price_asc" else -1
            head = sorted(head, key=lambda rs: (np.isnan(self.table.price[rs[0]]), sign * self.table.price[rs[0]]))
        return head + order[len(head):] if len(head) < k else head  # the less relevant follow, by relevance

    def _wanted_first(self, text: str, parsed: ParsedQuery, mask: np.ndarray | None, order: list[tuple[int, float]],
                      k: int, lists: dict, scores: dict) -> list[tuple[int, float]]:
        """Products with the wanted values ("red", "size 42") come first, in their order; when fewer than ``k`` of
        the candidates have them, the best of the others that do are retrieved under the same filters. The rest
        follow: product data often lacks a value, so wanted values never filter."""
        wanted = {key: tuple(v) for key, v in parsed.attributes.items()}
        tries = [wanted] + ([{"color": wanted["color"]}] if "color" in wanted and len(wanted) > 1 else []) + \
            [{key: v} for key, v in wanted.items() if key != "color" and len(wanted) > 1]
        for attrs in tries:  # all the wanted values; else the colour; else any one of them
            want = self.table.mask(Filters(attributes=attrs))
            if mask is not None:
                want = want & mask
            if want.any():
                break
        else:
            return order
        have = [rs for rs in order if want[rs[0]]]
        if len(have) < k and text.strip():
            extra_lists, extra_scores = self._signals(text, None, want, "hybrid")
            seen = {r for r, _ in have}
            have += [rs for rs in self._fuse(extra_lists, extra_scores) if rs[0] not in seen][:k - len(have)]
            for name, rows in extra_lists.items():  # the signals of the added hits are reported too
                known = set(lists.get(name, ()))
                lists[name] = lists.get(name, []) + [r for r in rows if r not in known]
                if name in extra_scores:
                    scores.setdefault(name, {}).update({r: v for r, v in extra_scores[name].items()
                                                        if r not in scores.get(name, {})})
        if "attributes" in lists:
            lists["attributes"] = list(dict.fromkeys(lists["attributes"] + [r for r, _ in have]))
        seen = {r for r, _ in have}
        return have + [rs for rs in order if rs[0] not in seen]

    def _hit(self, row: int, score: float, lists: dict[str, list[int]], scores: dict[str, dict[int, float]]) -> Hit:
        signals: dict[str, float] = {}
        for name, rows in lists.items():
            if row in rows:
                signals[f"{name}_rank"] = rows.index(row) + 1
                if name in scores:
                    signals[f"{name}_score"] = round(scores[name][row], 6)
        return Hit(self.table.ids[row], score, signals, self.products[row])


MAX_QUERY_CHARS = 2000


def _has(f: Filters, step: str) -> bool:
    return any(getattr(f, name) not in ((), None) for name in RELAX_FIELDS[step])


def _home(store: Store) -> Path | None:
    home = getattr(getattr(store, "config", None), "home", None)
    return Path(home) if home else None


def store_vocabulary(store: Store, products: list[Product]) -> Vocabulary:
    """The catalog's vocabulary with the store's own synonym groups (``HOME/synonyms.txt``) and the built-in ones."""
    home = _home(store)
    return Vocabulary.from_products(products, store_groups(home / "synonyms.txt") if home else ())


def store_interests(store: Store) -> Interests:
    """The interest lines with the store's own (``HOME/interests.txt``) first."""
    return Interests.for_store(_home(store))


def load_reranker(store: Store, encoder_key: str):
    """The store's trained re-ranker when it was trained with this encoder (its dense features depend on it)."""
    from daogou.search.rerank import Reranker, folder_of
    home = _home(store)
    folder = folder_of(home) if home is not None else None
    if folder is None or not (folder / "reranker.json").is_file():
        return None
    model = Reranker.load(folder)
    return model if model.encoder == encoder_key else None


def store_rates(store: Store) -> dict[str, float]:
    """The currency table: the defaults, overridden by ``HOME/currency.json``."""
    home = _home(store)
    return load_rates(home / "currency.json") if home else dict(DEFAULT_RATES)


def _clean(query: str) -> str:
    """Text without control characters or undecodable bytes; empty and oversized queries are errors."""
    if not isinstance(query, str):
        raise ValidationError("query", "must be text")
    if len(query) > MAX_QUERY_CHARS:
        raise ValidationError("query", f"too long ({len(query):,} characters; at most {MAX_QUERY_CHARS:,})")
    text = "".join(ch for ch in query if ch.isprintable() and not 0xD800 <= ord(ch) <= 0xDFFF)
    if not text.strip():
        raise ValidationError("query", "empty query")
    return text
