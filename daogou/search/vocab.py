"""The store's own vocabulary, in every language of its texts: category names, brands and attribute values, with
aliases mined from the product texts themselves (``飞骋`` → Feicheng, ``红色`` → color=red).

Categories come from the products' paths and their translated paths. Brands and attribute values are also
*mined*, per language: a token (jieba word, Latin word) or touching-token n-gram is an alias of a label (a brand,
or an attribute key=value) when it appears in at least :data:`MIN_COVERAGE` of the label's texts (and at least
:data:`MIN_SUPPORT` of them), in at most :data:`MAX_OUTSIDE` of all other texts and of the other texts of the
label's own categories, and when at least :data:`MIN_PRECISION` of its occurrences are in the label's texts. The
same-category test keeps category words ("跑鞋") from becoming aliases of a brand or a value that only occurs in
one category. Brands are mined from titles, attribute values from titles and descriptions.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache


from daogou.catalog.models import Product, parse_category
from daogou.errors import ValidationError

MIN_COVERAGE = 0.6      # an alias appears in at least this share of the label's texts ...
MIN_SUPPORT = 3         # ... and in at least this many of them ...
MAX_OUTSIDE = 0.05      # ... and in at most this share of other texts (all others; same-category others) ...
MIN_PRECISION = 0.8     # ... and at least this share of all its occurrences are in the label's texts
MIN_SIBLINGS = 5        # a label needs this many same-category texts without it to be contrasted (else not mined)
SAMPLE = 128            # candidate n-grams come from at most this many texts of a label, evenly spread ...
SAMPLE_COVERAGE = 0.45  # ... with this loose cut on the sample; exact counts over all texts decide
MAX_VALUE_CHARS = 40    # longer attribute values are free text, not vocabulary
MAX_KEY_VALUES = 500    # keys with more distinct values (ids, free text) are skipped
MAX_FIELD_CHARS = 1000  # mining reads at most this much of a title or description
BOOLEAN_WORDS = frozenset({"yes", "no", "true", "false", "y", "n", "1", "0"})
_TRUE_WORDS = ("yes", "true", "y", "1")

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
CJK_RE = re.compile(f"[{_CJK}]")
_TOKEN_RE = re.compile(rf"(?P<cjk>[{_CJK}]+)|(?P<word>[^\W_{_CJK}]+(?:[.'’][^\W_{_CJK}]+)*)")
_WORD_RE = re.compile(rf"[^\W_{_CJK}]+(?:[.'’][^\W_{_CJK}]+)*")
_NUMBER_RE = re.compile(r"^\d+(?:\.\d+)?$")
_KIND_ORDER = {"brand": 0, "category": 1, "attribute": 2}
_TARGET_FIELD = {"brand": "brand", "category": "paths", "attribute": "values"}


def is_cjk(ch: str) -> bool:
    return bool(CJK_RE.match(ch))


def is_latin(ch: str) -> bool:
    return ch.isalnum() and not CJK_RE.match(ch)


@lru_cache(maxsize=200_000)
def cut_words(run: str) -> tuple[str, ...]:
    """jieba's precise-mode words of one run of CJK characters (jieba loads its dictionary on first use)."""
    import logging

    import jieba
    jieba.setLogLevel(logging.WARNING)
    return tuple(w for w in jieba.lcut(run) if w.strip())


def jieba_word(word: str) -> bool:
    """Whether ``word`` is in jieba's dictionary (query parsing uses it to tell the cue 别 from 特别 or 别的)."""
    import jieba
    jieba.dt.check_initialized()
    return jieba.dt.FREQ.get(word, 0) > 0


@lru_cache(maxsize=200_000)
def _cut_for_search(run: str) -> tuple[str, ...]:
    """jieba's search-mode words of one CJK run: the words plus their shorter parts (better recall for BM25)."""
    cut_words("")  # same lazy set-up as precise mode
    import jieba
    return tuple(w for w in jieba.lcut_for_search(run) if w.strip())


def spans(text: str) -> list[tuple[str, int, int, bool]]:
    """(token, start, end, is_cjk) of ``text`` (already NFKC-normalised and lower-cased)."""
    out: list[tuple[str, int, int, bool]] = []
    for m in _TOKEN_RE.finditer(text):
        if m.lastgroup == "word":
            out.append((m.group(), m.start(), m.end(), False))
            continue
        pos = m.start()
        for w in cut_words(m.group()):
            out.append((w, pos, pos + len(w), True))
            pos += len(w)
    return out


def tokens(text: str, for_search: bool = False) -> list[str]:
    """jieba words for CJK runs; lower-cased words for the rest (digits kept, ``6.1`` and ``women's`` whole).

    ``for_search`` cuts CJK runs in jieba's search mode (words and their parts), for the BM25 index.
    """
    norm = unicodedata.normalize("NFKC", text).lower()
    if not for_search:
        return [t for t, _, _, _ in spans(norm)]
    out: list[str] = []
    for m in _TOKEN_RE.finditer(norm):
        out.extend((m.group(),) if m.lastgroup == "word" else _cut_for_search(m.group()))
    return out


_CHUNK_RE = re.compile(r"[^\W_]+(?:[.'’][^\W_]+)*")


def grams(text: str, cache: dict[str, tuple[str, ...]]) -> set[str]:
    """Tokens, plus bigrams and trigrams of touching tokens (no space between: "43码", jieba's "飞"+"骋") where
    CJK is involved. Latin n-grams are not needed: mined Latin aliases are single words."""
    norm = unicodedata.normalize("NFKC", text[:MAX_FIELD_CHARS]).lower()
    if not CJK_RE.search(norm):
        return set(_WORD_RE.findall(norm))
    out: set[str] = set()
    for chunk in _CHUNK_RE.findall(norm):
        got = cache.get(chunk)
        if got is None:
            got = cache[chunk] = _chunk_grams(chunk)
        out.update(got)
    return out


def _chunk_grams(chunk: str) -> tuple[str, ...]:
    if not CJK_RE.search(chunk):
        return tuple(_WORD_RE.findall(chunk))
    sp = spans(chunk)
    out = [t for t, _, _, _ in sp]
    for i in range(len(sp) - 1):
        (a, _, ae, _), (b, bs, be, _) = sp[i], sp[i + 1]
        if bs == ae:
            out.append(a + b)
            if i + 2 < len(sp) and sp[i + 2][1] == be:
                out.append(a + b + sp[i + 2][0])
    return tuple(out)


def match_text(text: str) -> str:
    """Same-length form used for matching: per character NFKC and lower case; anything but letters and digits
    (and a ``.`` between digits) becomes a space. Offsets into the result are offsets into ``text``."""
    out, n = [], len(text)
    for i, c in enumerate(text):
        k = c if c.isascii() else unicodedata.normalize("NFKC", c)
        k = k.lower() if len(k) == 1 else c.lower()
        k = k if len(k) == 1 else c
        if k.isalnum():
            out.append(k)
        elif k == "." and 0 < i < n - 1 and text[i - 1].isdigit() and text[i + 1].isdigit():
            out.append(".")
        else:
            out.append(" ")
    return "".join(out)


def normalise(text: str) -> str:
    """An alias key: NFKC, lower case, punctuation to spaces, whitespace collapsed."""
    return " ".join(match_text(unicodedata.normalize("NFKC", str(text))).split())


def value_str(value: object) -> str | None:
    """The vocabulary form of an attribute value (``str(value)``, as the filters compare it); None when the value is
    not a facet (not a string or number, empty, or longer than :data:`MAX_VALUE_CHARS`)."""
    text = value if type(value) is str else str(value) if isinstance(value, (int, float, str)) else None
    return text if text and not isinstance(value, bool) and len(text) <= MAX_VALUE_CHARS and text.strip() else None


def weak_alias(alias: str) -> bool:
    """Numbers and one- or two-letter values ("42", "M", "L") count only with their key named ("size 42", "42码");
    "xs" and "xl" are no words but sizes, so they stand alone."""
    return bool(_NUMBER_RE.match(alias)) or (len(alias) <= 2 and all(is_latin(c) for c in alias)
                                             and alias.lower() not in ("xs", "xl"))


def singular(alias: str) -> str | None:
    """English plural → singular of the last word ("phone cases" → "phone case"); None when not plural."""
    if not alias.isascii() or len(alias.rsplit(" ", 1)[-1]) <= 3:
        return None
    for end, repl in (("ies", "y"), ("sses", "ss"), ("shes", "sh"), ("ches", "ch"), ("xes", "x")):
        if alias.endswith(end):
            return alias[: -len(end)] + repl
    return alias[:-1] if alias.endswith("s") and not alias.endswith(("ss", "us", "is")) else None


@dataclass(frozen=True)
class VocabMatch:
    """One alias found in a text, at ``text[start:end]``. ``kind`` is "brand" | "category" | "attribute"."""

    start: int
    end: int
    alias: str
    kind: str
    brand: str = ""                              # kind "brand": the Product.brand
    paths: tuple[str, ...] = ()                  # kind "category": category paths (prefix paths for parents)
    values: tuple[tuple[str, str], ...] = ()     # kind "attribute": (key, value) pairs the alias may mean
    weak: bool = False                           # a number or 1-2 letters: needs its key named next to it


@dataclass
class Vocabulary:
    """Aliases (keys normalised with :func:`normalise`) of the catalog's categories, brands and attribute values.

    Build it with :meth:`from_products`; the match index is built on first use, so edit the tables before then."""

    categories: dict[str, set[str]] = field(default_factory=dict)              # alias → category paths
    brands: dict[str, str] = field(default_factory=dict)                       # alias → Product.brand
    attributes: dict[str, set[tuple[str, str]]] = field(default_factory=dict)  # alias → {(key, value)}
    category_paths: set[str] = field(default_factory=set)                      # every path and every prefix
    leaves: set[str] = field(default_factory=set)                              # the products' own paths
    attribute_categories: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # (key, value) → leaves
    key_values: dict[str, set[str]] = field(default_factory=dict)              # key → its values
    mined: set[tuple[str, str]] = field(default_factory=set)                   # (kind, alias) found by mining
    price_min: float | None = None
    price_max: float | None = None
    currency: str | None = None                                                # the most common currency
    language: str = "en"                                                       # the most common language
    n_products: int = 0
    known_words: frozenset[str] = frozenset()                                  # Latin words of the store's texts
    _index: dict[str, list[tuple[str, object]]] | None = field(default=None, init=False, repr=False, compare=False)
    _lengths: tuple[int, ...] = field(default=(), init=False, repr=False, compare=False)
    _first: dict[str, tuple[int, ...]] = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def from_products(cls, products: Iterable[Product], synonyms: Iterable[Iterable[str]] = ()) -> Vocabulary:
        """One pass over the products' paths, attributes and texts, then mining per language; then the store's own
        synonym groups (``synonyms``, first, so they win) and the built-in ones (:mod:`daogou.search.synonyms`)."""
        from daogou.search.synonyms import built_in_groups
        from daogou.search.vocab_mining import build  # mining lives apart: it is most of the code
        vocab = build(list(products))
        vocab.add_synonyms([*synonyms, *built_in_groups()])
        return vocab

    def aliases_of(self, kind: str, target: str | tuple[str, str]) -> list[str]:
        """Every alias of a brand (kind "brand"), a category path ("category") or a (key, value) ("attribute")."""
        table = {"brand": self.brands, "category": self.categories, "attribute": self.attributes}[kind]
        return sorted(a for a, t in table.items() if (t == target if kind == "brand" else target in t))

    def key_share(self, key: str) -> float:
        """The share of leaf categories whose products have ``key`` (1.0 for colour in a fashion store)."""
        leaves = {leaf for v in self.key_values.get(key, ()) for leaf in self.attribute_categories.get((key, v), ())}
        return len(leaves) / len(self.leaves) if self.leaves else 0.0

    def value_in_categories(self, key: str, value: str, paths: Iterable[str]) -> bool:
        """Whether products with key=value exist under any of ``paths`` (a path covers its subtree)."""
        leaves = self.attribute_categories.get((key, value), set())
        return any(leaf == p or leaf.startswith(p + " > ") for p in paths for leaf in leaves)

    def add_synonyms(self, groups: Iterable) -> list[str]:
        """Each group is words for one thing ("backpack", "rucksack", "背包"), optionally with broader words
        (``(words, broader)``): the first of the words the store's vocabulary knows as a category (else as a brand
        or value; else the first broader word it knows as a category) is the anchor, and every other word of the
        group that names nothing yet becomes an alias of the anchor's targets. Returns the aliases added. Call
        before the first match."""
        added = []
        for group in groups:
            own, broader = (group if isinstance(group, tuple) else (group, []))
            words = [normalise(w) for w in own if normalise(w)]
            wide = [normalise(w) for w in broader if normalise(w)]
            anchor = next((w for w in words if w in self.categories or w in self.brands
                           or (w in self.attributes and ("attribute", w) not in self.mined)), None)
            if anchor is None:  # only a mined "value" (保温杯 as material=stainless steel): the broader category
                anchor = next((w for w in wide if w in self.categories), None) or \
                    next((w for w in words if w in self.attributes), None)
            if anchor is None:
                continue
            value_anchor = anchor in self.attributes and anchor not in self.categories and anchor not in self.brands
            for w in words:
                if value_anchor and w in self.categories and w not in self.attributes and w != anchor \
                        and CJK_RE.search(w):  # (not "cream": a colour, and here the kind of skincare it names)
                    # a kind's word that also says one of its values ("船袜": socks, ankle height; "长裙": a maxi
                    # dress) means both; a value that is not of the kind asked for is left out when parsed
                    self.attributes[w] = set(self.attributes[anchor])
                    self.mined.add(("synonym", w))
                    added.append(w)
                    continue
                if w == anchor or w in self.categories or w in self.brands:
                    continue
                if w in self.attributes and ("attribute", w) not in self.mined or \
                        (w in self.attributes and anchor not in self.categories):
                    continue
                self.attributes.pop(w, None)  # a mined "value" that is a kind of product (保温杯) names the kind
                if anchor in self.categories:
                    self.categories[w] = set(self.categories[anchor])
                elif anchor in self.brands:
                    self.brands[w] = self.brands[anchor]
                else:
                    self.attributes[w] = _said_of(w, self.attributes[anchor])
                self.mined.add(("synonym", w))
                added.append(w)
        self._index = None
        return added

    def _index_(self) -> dict[str, list[tuple[str, object]]]:
        if self._index is None:
            idx: dict[str, list[tuple[str, object]]] = defaultdict(list)
            for alias, brand in self.brands.items():
                idx[alias].append(("brand", brand))
            for alias, paths in self.categories.items():
                idx[alias].append(("category", tuple(sorted(paths))))
            for alias, kvs in self.attributes.items():
                idx[alias].append(("attribute", tuple(sorted(kvs))))
            self._index = dict(idx)
            self._lengths = tuple(sorted({len(a) for a in idx if a}, reverse=True))
            by_first: dict[str, set[int]] = defaultdict(set)
            for a in idx:
                if a:
                    by_first[a[0]].add(len(a))
            self._first = {c: tuple(sorted(ls, reverse=True)) for c, ls in by_first.items()}
        return self._index

    def candidates(self, text: str) -> list[VocabMatch]:
        """Every alias occurrence in ``text`` (offsets into ``text``): aliases with CJK characters match anywhere
        (substring), Latin edges of an alias only at word edges ("red" is not found in "reddish")."""
        idx, m = self._index_(), match_text(text)
        n, out = len(m), []
        for i in range(n):
            if m[i] == " " or (i > 0 and is_latin(m[i]) and is_latin(m[i - 1])):
                continue
            for length in self._first.get(m[i], ()):
                j = i + length
                hits = idx.get(m[i:j]) if j <= n else None
                if hits is None or (j < n and is_latin(m[j - 1]) and is_latin(m[j])):
                    continue
                out.extend(VocabMatch(i, j, m[i:j], kind, **{_TARGET_FIELD[kind]: target},  # type: ignore[arg-type]
                                      weak=kind == "attribute" and weak_alias(m[i:j])) for kind, target in hits)
        return out

    def find(self, text: str, keep: Callable[[VocabMatch], VocabMatch | None] | None = None) -> list[VocabMatch]:
        """Longest non-overlapping matches, left to right; on equal spans brand > category > attribute, except that
        a word naming both a category and one of its values keeps both ("四件套": bedding, and pieces=4-piece set).

        ``keep`` may drop (None) or narrow a candidate before the choice (query parsing drops "42" unless the
        query says "size 42" or "42码")."""
        cands = self.candidates(text)
        if keep is not None:
            cands = [k for k in map(keep, cands) if k is not None]
        cands.sort(key=lambda c: (c.start - c.end, c.start, _KIND_ORDER[c.kind]))
        taken, chosen = bytearray(len(text) + 1), []
        spans: dict[tuple[int, int], str] = {}
        for c in cands:
            if not any(taken[c.start:c.end]):
                taken[c.start:c.end] = b"\x01" * (c.end - c.start)
                chosen.append(c)
                spans[(c.start, c.end)] = c.kind
            elif c.kind == "attribute" and spans.get((c.start, c.end)) == "category":
                chosen.append(c)
                spans[(c.start, c.end)] = "both"
        return sorted(chosen, key=lambda c: c.start)


# ---------------------------------------------------------------- building

# What a key's values describe, as shoppers name it: "oily skin" is skin_type=oily, "油头" hair_type=oily
_KEY_NOUNS = {"skin": ("skin", "皮", "肤", "肌"), "hair": ("hair", "scalp", "头", "发")}


def _said_of(word: str, targets: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Of a synonym's (key, value) targets, those whose key the word names ("oily skin": skin_type, not
    hair_type); all of them when it names none ("greasy")."""
    named = {kv for kv in targets
             if any(n in word for part in kv[0].split("_") for n in _KEY_NOUNS.get(part, ()))}
    return named or set(targets)


def add_alias(table: dict, alias: str, target: object) -> None:
    if alias:
        table.setdefault(alias, set()).add(target)


@lru_cache(maxsize=1024)
def lang_code(lang: str) -> str:
    return re.split(r"[-_]", str(lang or ""))[0].lower()


def product_texts(p: Product) -> dict[str, tuple[str, str]]:
    """language → (title, description) of the product and of its translations."""
    out = {lang_code(p.language) or ("zh" if CJK_RE.search(p.title) else "en"): (p.title, p.description)}
    for code, tr in (p.translations or {}).items():
        if isinstance(tr, dict) and lang_code(code) and lang_code(code) not in out:
            out[lang_code(code)] = (str(tr.get("title") or ""), str(tr.get("description") or ""))
    return out


def add_category_aliases(v: Vocabulary, path: tuple[str, ...], translated: list[str]) -> None:
    """Each node's name and each prefix path → that prefix path; translated names aligned level by level."""
    for d in range(1, len(path) + 1):
        prefix = " > ".join(path[:d])
        v.category_paths.add(prefix)
        add_alias(v.categories, normalise(path[d - 1]), prefix)
        add_alias(v.categories, normalise(prefix), prefix)
        if d > 1 and path[d - 1].isascii():  # "Shoes > Running" is also said "running shoes"
            add_alias(v.categories, normalise(f"{path[d - 1]} {path[d - 2]}"), prefix)
    for text in translated:
        try:
            parts = parse_category(text)
        except ValidationError:
            continue
        if len(parts) == len(path):
            for d in range(1, len(path) + 1):
                add_alias(v.categories, normalise(parts[d - 1]), " > ".join(path[:d]))
                add_alias(v.categories, normalise(" > ".join(parts[:d])), " > ".join(path[:d]))
        elif parts:
            add_alias(v.categories, normalise(parts[-1]), " > ".join(path))


_ZH_DIGITS = "零一二三四五六七八九十"
_COUNT = re.compile(r"(\d{1,4})\s*(?:-\s*)?(pairs?|pcs|pieces?|piece set|pack)", re.I)


def count_aliases(value: str) -> list[str]:
    """How shoppers say a count the catalog writes one way: "6 pairs" → "pack of 6", "6-pack", "6双装";
    "4-piece set" → "4 piece set", "set of 4", "四件套"; "300 pcs" → "300 pieces", "300片"."""
    m = _COUNT.fullmatch(value.strip())
    if m is None:
        return []
    n, unit = int(m.group(1)), m.group(2).lower()
    zh = [str(n)] + ([_ZH_DIGITS[n]] if n <= 10 else []) + (["两"] if n == 2 else [])
    if unit.startswith("pair") or unit == "pack":
        return [f"pack of {n}", f"{n} pack", f"{n}-pack", f"{n}pk", f"{n} pairs", f"{n} pair",
                *(f"{z}{w}" for z in zh for w in ("双", "双装"))]
    if unit == "piece set" or (unit.startswith("piece") and n > 1 and n <= 12):
        return [f"{n} piece set", f"{n}-piece", f"{n} piece", f"{n}pc set", f"set of {n}",
                *(f"{z}件套" for z in zh)]
    if unit in ("pcs", "pieces") or unit.startswith("piece"):
        return [f"{n} pieces", f"{n} pcs", f"{n}pcs", f"{n}片", f"{n}块", f"{n}颗粒"] if n > 1 else []
    return []


_GENERIC_TAIL = {"foam", "oil", "acid", "wool", "cloth", "steel", "fibre", "fiber"}


def short_aliases(value: str, values: set[str]) -> list[str]:
    """A material named by its telling word: "EVA foam" → "eva", "argan oil" → "argan", "stainless steel" →
    "stainless" (the rest is a generic word), unless that word is itself a value ("bamboo" beside "bamboo fibre")."""
    words = value.split()
    if len(words) != 2 or words[1].lower() not in _GENERIC_TAIL or len(words[0]) < 3 or not words[0].isalpha():
        return []
    first = words[0].lower()
    return [] if any(o.lower() == first or (o != value and o.lower().split()[0] == first) for o in values) else [first]


def add_value_aliases(v: Vocabulary, key: str, values: set[str]) -> None:
    """The values themselves; for yes/no keys the key's name stands for "yes" ("waterproof" → waterproof=yes)."""
    v.key_values[key] = set(values)
    boolean = all(x.strip().lower() in BOOLEAN_WORDS for x in values)
    for x in values:
        if not boolean:
            add_alias(v.attributes, normalise(x), (key, x))
            for alias in count_aliases(x) + short_aliases(x, values):
                add_alias(v.attributes, normalise(alias), (key, x))
        elif x.strip().lower() in _TRUE_WORDS:
            add_alias(v.attributes, normalise(key.replace("_", " ")), (key, x))
