"""Structured filters (category subtree, brands in/out, price range, attribute values, in stock) and facets.

The catalog is held as column arrays with integer codes, so a filter is a few vectorised comparisons and
returns one boolean mask that every index applies the same way.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from daogou.catalog.models import Product
from daogou.errors import ValidationError

MAX_ATTRIBUTE_VALUE = 40  # longer values are free text, not facets
MASKS_KEPT = 64  # field masks a catalog table keeps (a million products: 1 MB each)
FACETS_KEPT = 1024  # facet counts a catalog table keeps, by filter


@dataclass(frozen=True)
class Filters:
    categories: tuple[str, ...] = ()  # category paths; each matches its whole subtree ("Shoes" ⊃ "Shoes > Running")
    brands: tuple[str, ...] = ()
    exclude_brands: tuple[str, ...] = ()
    price_min: float | None = None
    price_max: float | None = None
    attributes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    exclude_attributes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    in_stock: bool | None = None
    ids: tuple[str, ...] | None = None  # only these products (e.g. "compare the first two", re-ranking a list)

    def is_empty(self) -> bool:
        return self == Filters()

    def key(self) -> tuple | None:
        """A hashable form of the constraints (equal filters, equal keys); None for a filter by ids."""
        if self.ids is not None:
            return None
        items = lambda d: tuple(sorted((k, tuple(sorted(v))) for k, v in d.items()))  # noqa: E731
        return (tuple(sorted(self.categories)), tuple(sorted(self.brands)), tuple(sorted(self.exclude_brands)),
                self.price_min, self.price_max, items(self.attributes), items(self.exclude_attributes),
                self.in_stock)

    def merged(self, other: "Filters") -> "Filters":
        """Both sets of constraints at once (used to add query-derived constraints to explicit ones)."""
        lo = [v for v in (self.price_min, other.price_min) if v is not None]
        hi = [v for v in (self.price_max, other.price_max) if v is not None]
        return replace(self, categories=self.categories or other.categories,
                       brands=self.brands or other.brands,
                       exclude_brands=tuple(dict.fromkeys(self.exclude_brands + other.exclude_brands)),
                       price_min=max(lo) if lo else None, price_max=min(hi) if hi else None,
                       attributes={**other.attributes, **self.attributes},
                       exclude_attributes={**other.exclude_attributes, **self.exclude_attributes},
                       in_stock=self.in_stock if self.in_stock is not None else other.in_stock,
                       ids=self.ids if self.ids is not None else other.ids)

    @classmethod
    def parse(cls, specs: Sequence[str]) -> "Filters":
        """CLI form: ``category=Shoes > Running``, ``brand=Lumo``, ``brand!=Lumo``, ``price<=100``,
        ``price>=10``, ``color=red``, ``color!=red``, ``in_stock=true``. Values may be comma-separated."""
        f: dict = {"attributes": {}, "exclude_attributes": {}}
        for spec in specs:
            m = re.match(r"^\s*([\w.-]+)\s*(<=|>=|!=|=)\s*(.+?)\s*$", spec)
            if not m:
                raise ValidationError("filter", f"{spec!r}: expected NAME=VALUE, NAME!=VALUE, price<=N or price>=N")
            name, op, value = m.groups()
            values = tuple(v.strip() for v in value.split(",") if v.strip())
            _apply(f, name, op, value, values, spec)
        return cls(**f)


def _apply(f: dict, name: str, op: str, value: str, values: tuple[str, ...], spec: str) -> None:
    if name == "price":
        if op not in ("<=", ">="):
            raise ValidationError("filter", f"{spec!r}: price takes <= or >=")
        try:
            f["price_max" if op == "<=" else "price_min"] = float(value)
        except ValueError:
            raise ValidationError("filter", f"{spec!r}: not a number") from None
    elif op in ("<=", ">="):
        raise ValidationError("filter", f"{spec!r}: only price takes <= or >=")
    elif name == "category":
        f["categories"] = tuple(" > ".join(p.strip() for p in v.split(">")) for v in values)
    elif name == "brand":
        f["exclude_brands" if op == "!=" else "brands"] = values
    elif name == "in_stock":
        f["in_stock"] = value.lower() in ("1", "true", "yes")
    else:
        f["exclude_attributes" if op == "!=" else "attributes"][name] = values


def _codes(values: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    vocab: dict[str, int] = {}
    codes = np.fromiter((vocab.setdefault(v, len(vocab)) for v in values), dtype=np.int32, count=len(values))
    return codes, list(vocab)


def _among(codes: np.ndarray, wanted: Sequence[int], n_names: int) -> np.ndarray:
    """Rows whose code is one of ``wanted``: a comparison per wanted code for a few (~0.1 ms each over a million
    rows), else a look-up table indexed by the codes (one ``take``, ~1 ms; fancy indexing took 2.6 ms)."""
    wanted = list(wanted)
    if len(wanted) <= 4:
        out = np.zeros(len(codes), dtype=bool)
        for code in wanted:
            out |= codes == code
        return out
    table = np.zeros(n_names, dtype=bool)
    table[wanted] = True
    return np.take(table, codes)


class CatalogTable:
    """Column view of the catalog used for filtering and facets; row i is product ``ids[i]``."""

    def __init__(self, products: Sequence[Product]):
        self.ids = [p.id for p in products]
        self.row_of = {pid: i for i, pid in enumerate(self.ids)}
        category, self.category_names = _codes([" > ".join(p.category) for p in products])
        brand, self.brand_names = _codes([p.brand.casefold() for p in products])
        self.brand_display = {p.brand.casefold(): p.brand for p in products}
        self.price = np.array([np.nan if p.price is None else p.price for p in products], dtype=np.float64)
        self.in_stock = np.array([p.in_stock for p in products], dtype=bool)
        keys = sorted({k for p in products for k, v in p.attributes.items() if _facet_value(v) is not None})
        attrs = [_codes([_facet_value(p.attributes.get(k)) or "" for p in products]) for k in keys]
        stacked = np.stack([category, brand] + [c for c, _ in attrs], axis=1).astype(np.int32, copy=False)
        # Filters read one field over every row: contiguous copies of the columns (a strided column is copied by
        # every operation on it, which at 1M products was most of a filtered search's time).
        self.category_codes = np.ascontiguousarray(stacked[:, 0])
        self.brand_codes = np.ascontiguousarray(stacked[:, 1])
        self.attributes: dict[str, tuple[np.ndarray, list[str]]] = {
            k: (np.ascontiguousarray(stacked[:, 2 + j]), names)
            for j, (k, (_, names)) in enumerate(zip(keys, attrs))}
        self._facet_plan: _FacetPlan | None = None
        self._all_facets: tuple[int, dict[str, dict[str, int]]] | None = None
        # Each field's mask per set of wanted codes (a search asks for the same few, its category and wanted
        # values, several times; a look-up over a million codes costs ~1 ms), and each filter's facet counts.
        self._masks = _Kept(MASKS_KEPT)
        self._facets_by_filter = _Kept(FACETS_KEPT)

    def __len__(self) -> int:
        return len(self.ids)

    def mask(self, f: Filters | None) -> np.ndarray | None:
        """Boolean mask of products passing ``f`` (None when nothing is filtered)."""
        if f is None or f.is_empty():
            return None
        m = np.ones(len(self), dtype=bool)
        if f.categories:
            wanted = [c.casefold() for c in f.categories]
            ok = [i for i, name in enumerate(self.category_names)
                  if any(name.casefold() == w or name.casefold().startswith(w + " > ") for w in wanted)]
            m &= self._field_mask("category", self.category_codes, ok, len(self.category_names))
        if f.brands:
            m &= self._field_mask("brand", self.brand_codes, self._brand_codes(f.brands), len(self.brand_names))
        if f.exclude_brands:
            m &= ~self._field_mask("brand", self.brand_codes, self._brand_codes(f.exclude_brands),
                                   len(self.brand_names))
        with np.errstate(invalid="ignore"):
            if f.price_min is not None:
                m &= self.price >= f.price_min
            if f.price_max is not None:
                m &= self.price <= f.price_max
        for key, values in f.attributes.items():
            m &= self._attribute_mask(key, values)
        for key, values in f.exclude_attributes.items():
            m &= ~self._attribute_mask(key, values)
        if f.in_stock is not None:
            m &= self.in_stock == f.in_stock
        if f.ids is not None:
            keep = np.zeros(len(self), dtype=bool)
            keep[[self.row_of[i] for i in f.ids if i in self.row_of]] = True
            m &= keep
        return m

    def _brand_codes(self, brands: Sequence[str]) -> list[int]:
        wanted = {b.casefold() for b in brands}
        return [i for i, name in enumerate(self.brand_names) if name in wanted]

    def _attribute_mask(self, key: str, values: Sequence[str]) -> np.ndarray:
        if key not in self.attributes:
            return np.zeros(len(self), dtype=bool)
        codes, names = self.attributes[key]
        wanted = {v.casefold() for v in values}
        ok = [i for i, name in enumerate(names) if name and name.casefold() in wanted]
        return self._field_mask("attribute:" + key, codes, ok, len(names))

    def _field_mask(self, field: str, codes: np.ndarray, wanted: Sequence[int], n_names: int) -> np.ndarray:
        """Rows whose ``field`` code is one of ``wanted`` (read-only: it is kept for the next search)."""
        key = (field, tuple(sorted(wanted)))
        found = self._masks.get(key)
        if found is None:
            found = _among(codes, key[1], n_names)
            found.setflags(write=False)
            self._masks.put(key, found)
        return found

    def facets(self, rows: np.ndarray | None, top: int = 10, key: tuple | None = None) -> dict[str, dict[str, int]]:
        """Counts of categories, brands, price bands and attribute values among ``rows`` (None: all products).
        ``key`` (``Filters.key()`` of the filter that chose ``rows``) keeps the answer for the next search under
        the same filter: counting a few hundred thousand rows takes milliseconds."""
        if rows is None:
            if self._all_facets is None or self._all_facets[0] != top:
                self._all_facets = (top, self._facets(slice(None), top))  # the catalog's own: computed once
            return {k: dict(v) for k, v in self._all_facets[1].items()}
        if key is None:
            return self._facets(rows, top)
        found = self._facets_by_filter.get((key, top))
        if found is None:
            found = self._facets(rows, top)
            self._facets_by_filter.put((key, top), found)
        return {k: dict(v) for k, v in found.items()}

    def _facets(self, rows: np.ndarray | slice, top: int) -> dict[str, dict[str, int]]:
        plan = self._facet_plan = self._facet_plan or _FacetPlan(self)
        counts = plan.counts(None if isinstance(rows, slice) else rows)
        out = {"category": {}, "brand": {}, "price": _price_bands(self.price[rows])}  # attributes follow
        for column, values in plan.top(counts, top):
            out[column] = {self.brand_display.get(k, k): v for k, v in values.items()} if column == "brand" else values
        return out


class _Kept:
    """The last ``size`` values used, by key (thread-safe; a value read is kept longest)."""

    def __init__(self, size: int):
        self.size, self._values, self._lock = size, {}, threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._values.pop(key, None)
            if value is not None:
                self._values[key] = value
            return value

    def put(self, key, value) -> None:
        with self._lock:
            self._values[key] = value
            while len(self._values) > self.size:
                self._values.pop(next(iter(self._values)))


class _FacetPlan:
    """The facet columns of a table (category, brand, attributes with at most 200 values) laid out in one code
    space, each counted with a ``bincount`` over its contiguous column; ties are broken in name order."""

    MAX_VALUES = 200

    def __init__(self, table: CatalogTable):
        columns = [("category", table.category_codes, table.category_names),
                   ("brand", table.brand_codes, table.brand_names)] + [
            (key, codes, names) for key, (codes, names) in table.attributes.items() if len(names) <= self.MAX_VALUES]
        self.names = [c[0] for c in columns]
        self.arrays = [c[1] for c in columns]
        self.sizes = [len(c[2]) for c in columns]
        self.offsets = (np.cumsum(self.sizes) - self.sizes).astype(np.int64).tolist()
        self.values = [v for c in columns for v in c[2]]
        self.column = np.repeat(np.arange(len(columns)), self.sizes)
        self.rank = np.concatenate([np.argsort(np.argsort(np.array(c[2], dtype=object), kind="stable"))
                                    for c in columns]) if columns else np.zeros(0, dtype=np.intp)
        self.empty = np.array([v == "" for v in self.values], dtype=bool)
        self.rows = len(table)
        self.everything = self._count(None)

    def counts(self, rows: np.ndarray | None) -> np.ndarray:
        """Count of every facet value among ``rows`` (None: every row). Most of the catalog is counted as the
        whole minus the rest: the work is bounded by half the catalog (a price cap keeping 70% of a million
        products took 130 ms row by row)."""
        if rows is None:
            return self.everything.copy()
        if 2 * len(rows) > self.rows:
            rest = np.ones(self.rows, dtype=bool)
            rest[rows] = False
            return self.everything - self._count(np.flatnonzero(rest))
        return self._count(rows)

    def _count(self, rows: np.ndarray | None) -> np.ndarray:
        counts = np.zeros(len(self.values), dtype=np.int64)
        for codes, at, size in zip(self.arrays, self.offsets, self.sizes):
            counts[at:at + size] = np.bincount(codes if rows is None else codes[rows], minlength=size)
        counts[self.empty] = 0  # a missing attribute value is not a facet value
        return counts

    def top(self, counts: np.ndarray, top: int):
        """(column, {value: count}) of each column with a count, its ``top`` values most first."""
        found = np.flatnonzero(counts)
        found = found[np.lexsort((self.rank[found], -counts[found], self.column[found]))]
        cols = self.column[found]
        first = np.searchsorted(cols, cols, side="left")
        keep = found[np.arange(len(found)) - first < top]
        grouped: dict[int, dict[str, int]] = {}
        for code, col, n in zip(keep.tolist(), self.column[keep].tolist(), counts[keep].tolist()):
            grouped.setdefault(col, {})[self.values[code]] = n
        return [(self.names[col], values) for col, values in grouped.items()]


def _facet_value(v) -> str | None:
    if isinstance(v, (str, int, float)) and not isinstance(v, bool) and len(str(v)) <= MAX_ATTRIBUTE_VALUE:
        return str(v)
    return None


def _price_bands(prices: np.ndarray) -> dict[str, int]:
    prices = prices[~np.isnan(prices)]
    if not len(prices):
        return {}
    edges = np.unique(_quartiles(prices).round(2))
    if len(edges) < 2:
        return {f"{edges[0]:g}": int(len(prices))}
    # np.histogram's bins (half-open, the last closed): the prices below each edge, and at most the last
    cuts = [int(np.count_nonzero(prices < e)) for e in edges[:-1]] + [int(np.count_nonzero(prices <= edges[-1]))]
    return {f"{lo:g}–{hi:g}": int(n) for lo, hi, n in zip(edges[:-1], edges[1:], np.diff(cuts))}


def _quartiles(values: np.ndarray) -> np.ndarray:
    """``np.quantile(values, [0, .25, .5, .75, 1])`` (linear method, same arithmetic), from a partition at the
    ranks it reads, not a sort (a sort of 700k prices took 60 ms) and without ``np.quantile``'s per-call overhead."""
    at = np.array([0.0, 0.25, 0.5, 0.75, 1.0]) * (len(values) - 1)
    lo = np.floor(at).astype(np.intp)
    hi = np.minimum(lo + 1, len(values) - 1)
    ordered = np.partition(values, np.unique(np.concatenate((lo, hi))))
    t = at - lo
    a, b = ordered[lo], ordered[hi]
    diff = b - a
    return np.where(t >= 0.5, b - diff * (1 - t), a + diff * t)
