"""Mining the store's own bilingual vocabulary: aliases of brands and attribute values found in product texts.

A word (or 2–3 touching CJK tokens) becomes an alias of a label (a brand, or an attribute key=value) when it
covers most of the label's texts and is rare everywhere else, including in the label's own categories.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from itertools import chain

import numpy as np

from daogou.catalog.models import Product, parse_category
from daogou.search.vocab import (CJK_RE, MAX_KEY_VALUES, MAX_OUTSIDE, MIN_COVERAGE, MIN_PRECISION, MIN_SIBLINGS,
                                 MIN_SUPPORT, SAMPLE, SAMPLE_COVERAGE, Vocabulary, add_alias, add_category_aliases,
                                 add_value_aliases, cut_words, grams, is_latin, lang_code, normalise, product_texts,
                                 singular, value_str, weak_alias)

@dataclass
class _Postings:
    """Texts as lists of n-gram ids, and for each id the texts holding it."""

    docs: list[list[int]]
    post: np.ndarray
    ptr: np.ndarray
    df: np.ndarray

    @classmethod
    def of(cls, docs: list[list[int]], n_ids: int) -> _Postings:
        lens = np.fromiter(map(len, docs), dtype=np.int64, count=len(docs))
        flat = np.fromiter(chain.from_iterable(docs), dtype=np.int64, count=int(lens.sum()))
        order = np.argsort(flat)
        owner = np.repeat(np.arange(len(docs), dtype=np.int64), lens)[order]
        ptr = np.searchsorted(flat[order], np.arange(n_ids + 1))
        return cls(docs, owner, ptr, np.diff(ptr))


def _candidates(docs: list[list[int]], members: np.ndarray) -> list[int]:
    """n-grams frequent enough in (an even sample of) the label's texts to be worth counting exactly."""
    if len(members) <= SAMPLE:
        pick, need = members, MIN_COVERAGE * len(members)
    else:
        pick, need = members[np.linspace(0, len(members) - 1, SAMPLE).astype(np.int64)], SAMPLE_COVERAGE * SAMPLE
    counts: Counter[int] = Counter()
    for d in pick.tolist():
        counts.update(docs[d])
    return [t for t, c in counts.items() if c >= need]


def _mine(ps: _Postings, groups: dict[object, list[int]], context: np.ndarray) -> dict[object, list[int]]:
    """label → n-gram ids passing the mining rule (module docstring); ``context`` is each text's leaf category."""
    n, ctx_sizes = len(ps.docs), np.bincount(context)
    inside, found = np.zeros(n, dtype=bool), {}
    for label, members_list in groups.items():
        members = np.asarray(members_list, dtype=np.int64)
        n_in, n_out = len(members), n - len(members)
        ctx = np.unique(context[members])
        n_sib = int(ctx_sizes[ctx].sum()) - n_in
        if n_in < MIN_SUPPORT or n_sib < MIN_SIBLINGS:
            continue
        in_ctx = np.zeros(len(ctx_sizes), dtype=bool)
        in_ctx[ctx] = True
        inside[members] = True
        keep = []
        for t in _candidates(ps.docs, members):
            df = int(ps.df[t])
            if df - n_in > MAX_OUTSIDE * n_out:
                continue  # too common elsewhere, whatever the count inside
            holders = ps.post[ps.ptr[t]:ps.ptr[t + 1]]
            hits = int(inside[holders].sum())
            if hits >= max(MIN_SUPPORT, MIN_COVERAGE * n_in, MIN_PRECISION * df) and df - hits <= MAX_OUTSIDE * n_out \
                    and int(in_ctx[context[holders]].sum()) - hits <= MAX_OUTSIDE * n_sib:
                keep.append(t)
        inside[members] = False
        if keep:
            found[label] = keep
    return found


def _mined_aliases(ids: list[int], names: list[str], df: np.ndarray, own_name: str) -> list[str]:
    """Valid aliases: CJK ones of 2+ characters, Latin ones single words of 3+ letters that are not a word of the
    label's own name ("tea" of "tea tree"); a part never seen outside a longer alias (same count) is dropped."""
    own, cands = set(normalise(own_name).split()), {}
    for t in ids:
        a = normalise(names[t])
        if not a or weak_alias(a) or (a in own or " " in a or len(a) < 3 if not CJK_RE.search(a) else len(a) < 2):
            continue
        cands[a] = max(cands.get(a, 0), int(df[t]))
    return sorted(a for a, c in cands.items() if not any(a != b and a in b and c == cb for b, cb in cands.items()))


def _swallows(v: Vocabulary, alias: str, target: object) -> bool:
    """Whether a mined CJK alias holds another alias with another meaning ("瑜伽垫" holds the category "瑜伽"), which
    longest-match would then hide."""
    if not CJK_RE.search(alias):
        return False
    n = len(alias)
    edge = [k in (0, n) or not (is_latin(alias[k - 1]) and is_latin(alias[k])) for k in range(n + 1)]
    parts = (alias[i:j] for i in range(n) for j in range(i + 2, n + 1) if j - i < n and edge[i] and edge[j])
    return any(p in v.categories or v.brands.get(p, target) != target or (p in v.attributes and target not in
               v.attributes[p]) for p in parts)


def _mine_language(v: Vocabulary, rows: list[int], titles: list[list[int]], fulls: list[list[int]],
                   labels: list[tuple[str, int, list[tuple[str, str]]]], names: list[str]) -> None:
    """Brand aliases from one language's titles, attribute-value aliases from its titles and descriptions."""
    if len(rows) < 2 * MIN_SUPPORT:
        return
    by_brand, by_value = defaultdict(list), defaultdict(list)
    for i, row in enumerate(rows):
        brand, _, attrs = labels[row]
        if brand:
            by_brand[brand].append(i)
        for kv in attrs:
            by_value[kv].append(i)
    context = np.fromiter((labels[r][1] for r in rows), dtype=np.int64, count=len(rows))
    tps, fps = _Postings.of(titles, len(names)), _Postings.of(fulls, len(names))
    owners: dict[str, set[str]] = defaultdict(set)
    for brand, ids in _mine(tps, by_brand, context).items():
        for a in _mined_aliases(ids, names, tps.df, brand):
            owners[a].add(brand)
    for a, brands in owners.items():  # an alias of two brands is no alias
        if len(brands) == 1 and a not in v.brands and a not in v.categories and a not in v.attributes \
                and not _swallows(v, a, next(iter(brands))):
            v.brands[a] = brands.pop()
            v.mined.add(("brand", a))
    for kv, ids in _mine(fps, by_value, context).items():
        for a in _mined_aliases(ids, names, fps.df, kv[1]):
            if a in v.brands or a in v.categories or (a in v.attributes and ("attribute", a) not in v.mined):
                continue
            if not _swallows(v, a, kv):
                add_alias(v.attributes, a, kv)
                v.mined.add(("attribute", a))


NOUN_COVERAGE = 0.08   # a title word names a category when it is in at least this share of the category's titles,
NOUN_PRECISION = 0.95  # nearly all of its titles are in that category,
NOUN_SUPPORT = 5       # and it is in at least this many of them
# Modifiers that are in one category's titles here but name no kind of product anywhere.
NOT_NOUNS = frozenset("""car laptop kit cover graphic building cutting mask extra slip natural fast wireless over
适用 加大 无线 跑步 汽车 电脑 印花 伸展 登山 超细 拼装 头戴式 城堡""".split())


def _mine_category_nouns(v: Vocabulary, rows: list[int], titles: list[list[int]],
                         labels: list[tuple[str, int, list[tuple[str, str]]]], names: list[str],
                         leaf_ids: dict[str, int]) -> None:
    """Product nouns of one language's titles ("earbuds", "boots", "面霜") become aliases of the leaf category
    whose titles hold them, unless they already name something else or are common words."""
    from daogou.search.typos import COMMON_WORDS
    leaf_of = {i: leaf for leaf, i in leaf_ids.items()}
    parts = {w for a in (*v.attributes, *v.brands) for w in a.split()} | {w for a in v.attributes for w in cut_words(a)}
    cjk_values = [a for a in (*v.attributes, *v.brands) if CJK_RE.search(a)]
    per_leaf: Counter = Counter(labels[r][1] for r in rows)
    df: Counter = Counter()
    in_leaf: dict[int, Counter] = defaultdict(Counter)
    for row, ids in zip(rows, titles):
        leaf = labels[row][1]
        for t in set(ids):
            df[t] += 1
            in_leaf[t][leaf] += 1
    picked: dict[int, str] = {}
    for t, total in df.items():
        if total < NOUN_SUPPORT:
            continue
        leaf, count = in_leaf[t].most_common(1)[0]
        alias = names[t]
        if count < NOUN_SUPPORT or count / total < NOUN_PRECISION or count / per_leaf[leaf] < NOUN_COVERAGE:
            continue
        if not leaf_of.get(leaf) or alias in COMMON_WORDS or alias in NOT_NOUNS or weak_alias(alias) \
                or any(c.isdigit() for c in alias) or (alias.isascii() and len(alias) < 3) or len(alias) < 2:
            continue
        mined_value = alias in v.attributes and ("attribute", alias) in v.mined
        if alias in v.brands or alias in v.categories or (alias in v.attributes and not mined_value) \
                or _swallows(v, alias, leaf_of[leaf]):
            continue
        if alias in parts or (CJK_RE.search(alias) and any(alias in a for a in cjk_values)):
            continue  # a piece of a value or brand ("steel" of stainless steel, 尿酸 of 玻尿酸) names no category
        picked[t] = leaf_of[leaf]
    values_of = {t: v.attributes[names[t]] for t in picked if names[t] in v.attributes}
    if values_of:  # a mined value alias is a product noun when it covers only part of that value's products
        with_value: Counter = Counter()
        holding: Counter = Counter()
        for row, ids in zip(rows, titles):
            kvs, leaf = set(labels[row][2]), leaf_of.get(labels[row][1])
            got = set(ids)
            for t, pairs in values_of.items():
                if picked[t] == leaf and pairs & kvs:
                    with_value[t] += 1
                    holding[t] += t in got
        for t in values_of:
            if with_value[t] and holding[t] / with_value[t] >= MIN_COVERAGE:
                picked.pop(t)  # 玻尿酸 is in every hyaluronic-acid title: the value's own name
    for t, path in picked.items():
        alias = names[t]
        if alias in v.attributes:  # "保温杯" was mined as material=stainless steel: it names a kind of product
            v.attributes.pop(alias)
            v.mined.discard(("attribute", alias))
        add_alias(v.categories, alias, path)
        v.mined.add(("category", alias))


class _Ids(dict):
    """n-gram → id, a new id for each new n-gram."""

    def __missing__(self, key: str) -> int:
        self[key] = n = len(self)
        return n


def _corpora(products: list[Product], ids: _Ids) -> dict[str, tuple[list[int], list[list[int]], list[list[int]]]]:
    """language → (product rows, title n-gram ids, title+description n-gram ids)."""
    cache: dict[str, list[int]] = {}
    chunks: dict[str, tuple[str, ...]] = {}
    corpora: dict[str, tuple[list[int], list[list[int]], list[list[int]]]] = {}
    for row, p in enumerate(products):
        for lang, (title, desc) in product_texts(p).items():
            rows, titles, fulls = corpora.setdefault(lang, ([], [], []))
            t_ids = cache.get(title)
            if t_ids is None:
                t_ids = cache[title] = list(map(ids.__getitem__, grams(title or "", chunks)))
            d_ids = cache.get(desc)
            if d_ids is None:
                d_ids = cache[desc] = list(map(ids.__getitem__, grams(desc or "", chunks)))
            rows.append(row)
            titles.append(t_ids)
            fulls.append(list(set(t_ids).union(d_ids)) if d_ids else t_ids)
    return corpora


def build(products: list[Product]) -> Vocabulary:
    v = Vocabulary(n_products=len(products))
    attrs = [[(k, s) for k, val in p.attributes.items() if (s := value_str(val)) is not None] for p in products]
    usable = Counter(k for k, _ in chain.from_iterable(attrs))
    total = Counter(k for p in products for k in p.attributes)
    key_values: dict[str, set[str]] = defaultdict(set)
    for k, s in set(chain.from_iterable(attrs)):
        key_values[k].add(s)
    keys = {k for k, vals in key_values.items() if len(vals) <= MAX_KEY_VALUES and total[k] <= 2 * usable[k]}
    if len(keys) < len(key_values):
        attrs = [[kv for kv in a if kv[0] in keys] for a in attrs]
    for k in keys:
        add_value_aliases(v, k, key_values[k])
    leaf_ids: dict[str, int] = {}
    leaf_values: dict[str, set[tuple[str, str]]] = defaultdict(set)
    labels: list[tuple[str, int, list[tuple[str, str]]]] = []
    seen_paths: set[tuple] = set()
    for p, a in zip(products, attrs, strict=True):
        path = tuple(p.category) if isinstance(p.category, (tuple, list)) else parse_category(p.category)
        leaf = " > ".join(path)
        translated = tuple(str(t["category"]) for t in (p.translations or {}).values()
                           if isinstance(t, dict) and t.get("category"))
        if path and (path, translated) not in seen_paths:
            seen_paths.add((path, translated))
            add_category_aliases(v, path, list(translated))
        leaf_values[leaf].update(a)
        labels.append(((p.brand or "").strip(), leaf_ids.setdefault(leaf, len(leaf_ids)), a))
    v.leaves = set(leaf_ids) - {""}
    for leaf, kvs in leaf_values.items():
        for kv in kvs:
            v.attribute_categories.setdefault(kv, set()).add(leaf)
    for brand in dict.fromkeys(b for b, _, _ in labels):
        if normalise(brand):
            v.brands.setdefault(normalise(brand), brand)
    prices = [p.price for p in products if p.price is not None]
    v.price_min, v.price_max = (min(prices), max(prices)) if prices else (None, None)
    v.currency = next((c for c, _ in Counter(p.currency for p in products).most_common() if c), None)
    v.language = next((x for x, _ in Counter(lang_code(p.language) for p in products).most_common() if x), "en")
    ids = _Ids()
    corpora = _corpora(products, ids)
    names = list(ids)
    for rows, titles, fulls in corpora.values():
        _mine_language(v, rows, titles, fulls, labels, names)
    for alias in list(v.categories):  # "backpacks" → also "backpack"
        s = singular(alias)
        if s and s not in v.categories and s not in v.brands and s not in v.attributes:
            v.categories[s] = set(v.categories[alias])
    for rows, titles, fulls in corpora.values():
        _mine_category_nouns(v, rows, titles, labels, names, leaf_ids)
    v.known_words = frozenset(n for n in names if n.isascii() and n.isalpha())
    return v
