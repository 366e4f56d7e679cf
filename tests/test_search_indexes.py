"""Contract tests for every index (BM25, flat, HNSW and IVF-PQ dense), fusion functions and filters."""

from __future__ import annotations

import numpy as np
import pytest

from daogou.catalog.demo import DemoConfig, generate_demo
from daogou.encode import get_encoder, product_text
from daogou.errors import ValidationError
from daogou.search.dense import DenseConfig, DenseIndex
from daogou.catalog.filters import CatalogTable, Filters
from daogou.search.hybrid import ranked, rrf, weighted
from daogou.search.lexical import BM25Index, analyze


@pytest.fixture(scope="module")
def catalog():
    return generate_demo(DemoConfig(seed=5, n_products=600, n_shoppers=0)).products


@pytest.fixture(scope="module")
def texts(catalog):
    return [product_text(p) for p in catalog]


@pytest.fixture(scope="module", params=["bm25", "flat", "hnsw", "ivfpq"])
def index(request, texts):
    if request.param == "bm25":
        return BM25Index.build(texts), lambda q: q
    vectors = get_encoder("hashing").encode(texts)
    idx = DenseIndex(vectors, config=DenseConfig(kind=request.param))
    assert idx.type == request.param
    return idx, lambda q: get_encoder("hashing").encode([q], kind="query")[0]


QUERIES = ["running shoes", "red cotton t-shirt", "蓝牙耳机", "yoga mat", "phone case"]


def test_results_sorted_valid_and_k(index, catalog):
    idx, prepare = index
    for q in QUERIES:
        rows, scores = idx.search(prepare(q), 10)
        assert len(rows) == 10 and len(set(rows.tolist())) == 10
        assert all(0 <= r < len(catalog) for r in rows)
        assert np.all(np.diff(scores) <= 1e-6)


def test_filters_never_leak_and_k_when_k_exist(index, catalog):
    idx, prepare = index
    rng = np.random.default_rng(0)
    for q in QUERIES:
        for share in (0.5, 0.1, 0.02):
            mask = rng.random(len(catalog)) < share
            rows, _ = idx.search(prepare(q), 10, mask)
            assert mask[rows].all()
            if idx.kind == "dense":  # every allowed product has a dense score: k come back when k exist
                assert len(rows) == min(10, int(mask.sum()))
        rows, _ = idx.search(prepare(q), 10, np.zeros(len(catalog), dtype=bool))
        assert len(rows) == 0


def test_bm25_known_answer_and_chinese():
    idx = BM25Index.build(["red running shoes", "blue running shoes", "红色 连衣裙 纯棉", "kitchen knife"])
    rows, _ = idx.search("red shoes", 4)
    assert rows.tolist()[:2] == [0, 1]
    rows, _ = idx.search("连衣裙", 4)
    assert rows.tolist() == [2]
    assert idx.search("zzz unknown", 4)[0].tolist() == []
    assert "跑鞋" in analyze("红色跑鞋") or "跑" in "".join(analyze("红色跑鞋"))


def test_bm25_stems_words_and_splits_numbers_from_letters():
    idx = BM25Index.build(["Panasonic ventilation fan 110 CFM, quiet", "ceiling fans with light, 80cfm",
                           "running shoe for women", "运动鞋 跑步"])
    assert idx.search("bathroom exhaust fans", 4)[0].tolist()[:2] in ([0, 1], [1, 0])  # fans ~ fan
    assert idx.search("110cfm", 4)[0].tolist()[0] == 0  # 110cfm ~ 110 CFM
    assert idx.search("80 cfm fan", 4)[0].tolist()[0] == 1  # and the other way round
    assert idx.search("women's running shoes", 4)[0].tolist() == [2]
    assert idx.search("跑步", 4)[0].tolist() == [3]  # Chinese words are not stemmed
    assert analyze("Shoes 6.1 PS5") == ["shoe", "6.1", "ps5", "ps", "5"]


def test_rrf_and_weighted_known_answers():
    fused = rrf({"a": ["x", "y", "z"], "b": ["y", "x"]}, k=60)
    assert ranked(fused)[:2] in (["x", "y"], ["y", "x"]) and fused["x"] == pytest.approx(1 / 61 + 1 / 62)
    assert ranked(rrf({"a": ["x", "y"], "b": ["y"]}))[0] == "y"
    w = weighted({"lex": {"x": 10, "y": 0}, "dense": {"x": 0.1, "y": 0.9}}, {"lex": 1, "dense": 2})
    assert ranked(w) == ["y", "x"]


def test_filter_masks_match_brute_force(catalog):
    table = CatalogTable(catalog)
    cases = [
        Filters(categories=("Shoes",)),
        Filters(categories=("Electronics > Headphones",), price_max=500),
        Filters(brands=(catalog[0].brand,), in_stock=True),
        Filters(exclude_brands=(catalog[0].brand, catalog[1].brand), price_min=100, price_max=400),
        Filters(attributes={"color": ("red", "blue")}),
        Filters(exclude_attributes={"color": ("red",)}, categories=("Clothing",)),
        Filters.parse(["category=Shoes > Running", "price<=300", "brand!=" + catalog[2].brand]),
    ]
    for _ in range(2):  # the second time each field's mask comes from the table's cache
        for f in cases:
            expected = np.array([_passes(p, f) for p in catalog])
            got = table.mask(f)
            assert (got == expected).all(), f
            got &= False  # the caller's own array: the cached masks are not touched
    assert table.mask(Filters()) is None
    shoes = Filters(categories=("Shoes",))
    rows = np.flatnonzero(table.mask(shoes))
    facets = table.facets(rows)
    assert set(facets["category"]) <= {c for c in table.category_names if c.startswith("Shoes")}
    kept = table.facets(rows, key=shoes.key())
    assert kept == facets and Filters(categories=("Shoes",)).key() == shoes.key()
    kept["category"].clear()  # the caller's copy
    assert table.facets(rows, key=shoes.key()) == facets
    assert Filters(ids=("a",)).key() is None
    assert Filters(attributes={"color": ("red", "blue")}).key() == Filters(attributes={"color": ("blue", "red")}).key()


def _passes(p, f: Filters) -> bool:
    path = " > ".join(p.category).casefold()
    if f.categories and not any(path == c.casefold() or path.startswith(c.casefold() + " > ") for c in f.categories):
        return False
    if f.brands and p.brand.casefold() not in {b.casefold() for b in f.brands}:
        return False
    if p.brand.casefold() in {b.casefold() for b in f.exclude_brands}:
        return False
    if f.price_min is not None and not (p.price is not None and p.price >= f.price_min):
        return False
    if f.price_max is not None and not (p.price is not None and p.price <= f.price_max):
        return False
    for k, vals in f.attributes.items():
        if str(p.attributes.get(k, "")).casefold() not in {v.casefold() for v in vals}:
            return False
    for k, vals in f.exclude_attributes.items():
        if str(p.attributes.get(k, "")).casefold() in {v.casefold() for v in vals}:
            return False
    return f.in_stock is None or p.in_stock == f.in_stock


def test_filter_specs_errors():
    with pytest.raises(ValidationError):
        Filters.parse(["price=cheap"])
    with pytest.raises(ValidationError):
        Filters.parse(["brand<=3"])
    with pytest.raises(ValidationError):
        Filters.parse(["nonsense"])
    f = Filters.parse(["color=red,blue", "price>=10", "in_stock=true"])
    assert f.attributes == {"color": ("red", "blue")} and f.price_min == 10 and f.in_stock is True
