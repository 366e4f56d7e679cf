"""The search engine on the demo store: known answers in English and Chinese, filters, bad queries, CLI."""

from __future__ import annotations

import numpy as np
import pytest

from daogou.catalog.demo import DemoConfig
from daogou.catalog.demo_store import build_demo_store, load_demo_truth
from daogou.catalog.store import Store
from daogou.config import StoreConfig
from daogou.errors import ValidationError
from daogou.search.engine import SearchConfig, Searcher
from daogou.catalog.filters import Filters
from tests.conftest import cli_json, run_cli


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("searchdemo")
    with Store.open(StoreConfig(home)) as store:
        build_demo_store(store, DemoConfig(seed=0))
    return home


@pytest.fixture(scope="module", params=["hashing", "e5-multilingual"])
def searcher(request, demo_home):
    with Store.open(StoreConfig(demo_home)) as store:
        return Searcher.build(store, SearchConfig(encoder=request.param))


def _cat(searcher, pid):
    return " > ".join(searcher.products[searcher.table.row_of[pid]].category)


def _product(searcher, pid):
    return searcher.products[searcher.table.row_of[pid]]


@pytest.mark.parametrize("query,category", [
    ("running shoes", "Shoes > Running"),
    ("跑鞋", "Shoes > Running"),
    ("yoga mat", "Sports > Yoga"),
    ("蓝牙耳机", "Electronics > Headphones"),
])
def test_known_answer_category(searcher, query, category):
    results = searcher.search(query, k=10)
    assert len(results.hits) == 10
    share = np.mean([_cat(searcher, h.product_id) == category for h in results.hits])
    assert share >= 0.9, (query, [(_cat(searcher, h.product_id)) for h in results.hits])


def test_understood_constraints_are_enforced(searcher):
    brands = sorted({p.brand for p in searcher.products if p.category == ("Electronics", "Headphones")})
    zh_brand = brands[0]
    results = searcher.search(f"500元以内的蓝牙耳机 不要{zh_brand}", k=20)
    assert results.hits, "expected headphones under 500"
    for h in results.hits:
        p = _product(searcher, h.product_id)
        assert p.price <= 500 and p.brand != zh_brand and p.category == ("Electronics", "Headphones")
    red = searcher.search("red running shoes under ¥600", k=10)
    assert all(_product(searcher, h.product_id).price <= 600 for h in red.hits)
    n_red = sum(p.attributes.get("color") == "red" and p.price <= 600 and p.category == ("Shoes", "Running")
                for p in searcher.products)
    assert n_red >= 2
    assert sum(_product(searcher, h.product_id).attributes.get("color") == "red" for h in red.hits) >= min(n_red, 5)


def test_cheapest_sorts_by_price(searcher):
    hits = searcher.search("最便宜的瑜伽垫", k=5).hits
    prices = [_product(searcher, h.product_id).price for h in hits]
    assert prices == sorted(prices) and all(_cat(searcher, h.product_id) == "Sports > Yoga" for h in hits)


def test_explicit_filters_never_leak(searcher):
    rng = np.random.default_rng(1)
    brands = sorted({p.brand for p in searcher.products})
    for q in ("shoes", "耳机", "gift for mom", "cotton", "red"):
        for _ in range(4):
            lo = float(rng.integers(0, 300))
            f = Filters(price_min=lo, price_max=lo + float(rng.integers(50, 800)),
                        exclude_brands=tuple(rng.choice(brands, 5, replace=False)), in_stock=True)
            results = searcher.search(q, k=15, filters=f)
            expected = searcher.table.mask(f)
            for h in results.hits:
                assert expected[searcher.table.row_of[h.product_id]]
            applied = searcher.table.mask(results.filters)  # explicit + what the query itself asked for
            assert results.total == int(applied.sum()) and not (applied & ~expected).any()


def test_signals_and_facets(searcher):
    results = searcher.search("red cotton t-shirt", k=5)
    assert any("dense_rank" in h.signals for h in results.hits)
    assert "category" in results.facets and sum(results.facets["category"].values()) > 0
    assert results.to_dict()["hits"][0]["id"] == results.hits[0].product_id


def test_facets_known_answer():
    from daogou.catalog.filters import CatalogTable
    from daogou.catalog.models import Product
    rows = [("a", "Kairo", 10.0, "red"), ("b", "Echolo", 20.0, "blue"), ("c", "Echolo", 30.0, "red"),
            ("d", "Atlas", 40.0, ""), ("e", "Kairo", None, "blue"), ("f", "Zed", 60.0, "green")]
    table = CatalogTable([Product(pid, pid, category=("X", "Y"), brand=b, price=p, attributes={"color": c} if c else {})
                          for pid, b, p, c in rows])
    f = table.facets(None, top=3)
    assert list(f["brand"].items()) == [("Echolo", 2), ("Kairo", 2), ("Atlas", 1)]  # most first, ties by name
    assert list(f["color"].items()) == [("blue", 2), ("red", 2), ("green", 1)]       # no empty value counted
    assert f["category"] == {"X > Y": 6}
    assert f["price"] == {"10–20": 1, "20–30": 1, "30–40": 1, "40–60": 2}
    sub = table.facets(np.array([0, 2, 5]))
    assert sub["brand"] == {"Echolo": 1, "Kairo": 1, "Zed": 1} and sub["color"] == {"red": 2, "green": 1}
    most = table.facets(np.array([0, 1, 2, 4]))  # most of the catalog: counted as the whole less the rest
    assert most["brand"] == {"Echolo": 2, "Kairo": 2} and most["color"] == {"blue": 2, "red": 2}
    assert most["price"] == {"10–15": 1, "15–20": 0, "20–25": 1, "25–30": 1}  # the unpriced one in no band


def test_price_quartiles_are_numpys():
    from daogou.catalog.filters import _quartiles
    rng = np.random.default_rng(0)
    for n in (1, 2, 3, 7, 100, 1001):
        prices = rng.gamma(2.0, 150.0, n).round(2)  # in any order: a partition, not a sort
        assert np.array_equal(_quartiles(prices), np.quantile(prices, [0, 0.25, 0.5, 0.75, 1.0]))


@pytest.mark.parametrize("bad", ["", "   ", "x" * 10_000, "\x00\x01\x02"])
def test_bad_queries_clear_errors(searcher, bad):
    with pytest.raises(ValidationError):
        searcher.search(bad)


@pytest.mark.parametrize("odd", ["🙂🙂🙂", "\ufffd\ufffd garbage \x7f", "a", "!!!???", "ZZZZQQQQ"])
def test_odd_queries_never_crash(searcher, odd):
    results = searcher.search(odd, k=5)
    assert len(results.hits) <= 5


def test_demo_truth_colour_taste_visible_in_text(searcher, demo_home):
    truth = load_demo_truth(demo_home)
    hidden = set(truth.hidden_colour)
    hits = searcher.search("red dress", k=10).hits
    visible_red = [h for h in hits if _product(searcher, h.product_id).attributes.get("color") == "red"]
    assert visible_red and not any(h.product_id in hidden for h in visible_red)


def test_cli_index_and_search(demo_home):
    out = cli_json("index", "--encoder", "hashing", home=demo_home)
    assert out["products"] == 2000 and out["loaded"] is False
    again = cli_json("index", "--encoder", "hashing", home=demo_home)
    assert again["loaded"] is True
    res = cli_json("search", "running shoes", "--k", "3", "--encoder", "hashing",
                   "--filter", "price<=400", home=demo_home)
    assert len(res["hits"]) == 3 and all(h["price"] <= 400 for h in res["hits"])
    proc = run_cli("search", "", "--encoder", "hashing", home=demo_home)
    assert proc.returncode == 1 and "empty query" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_cli("search", "shoes", "--filter", "price=cheap", "--encoder", "hashing", home=demo_home)
    assert proc.returncode == 1 and "filter" in proc.stderr


@pytest.mark.parametrize("message, language, category", [
    ("my aunt does yoga three times a week, looking for a present", "en", "Sports > Yoga"),
    ("闺蜜头发又长又多，每次吹头发都要好久，送她点啥", "zh", "Beauty > Hair Care"),
    ("something for my mom", "en", None),
    ("给我妈买个生日礼物吧", "zh", None),
])
def test_a_persons_interest_points_to_a_category(searcher, message, language, category):
    """A gift told as what the person likes finds the kind of product; one that tells nothing finds none (the
    hashing encoder, which knows words but not meanings, finds none either)."""
    if searcher.encoder.name == "hashing":
        category = None
    found = searcher.interest_category(message, language)
    assert (found[0] if found else None) == category


@pytest.mark.parametrize("query, matched", [
    ("do you sell laptops?", False),            # the store says "laptop" only of its laptop backpacks
    ("a baby stroller that's light", False),    # "light" describes it: the stroller is the need
    ("led light bulbs e27", False),
    ("laptop backpack, 20L", True),
    ("silicone spatula", True),                 # a kind its titles name ("Spatula Set")
    ("any in a longer length?", True),          # a key of the catalog, not a kind of product
    ("screen protector for my phone", False),   # the phone is what it is for, not the need
    ("chargr 33w", True),                       # a kind's word with a typo
    ("damaged hair care", True),                # "damaged hair" is the value; "hair care" still the kind
    ("car care kit", False),
    ("my headphones broke, need new ones", True),  # what happened to the old ones names no product
    ("耳机坏了 想买个新的", True),
    ("broken headphones repair", False),         # a repair is no product of the store
])
def test_the_head_of_a_need_must_be_a_kind_the_store_sells(searcher, query, matched):
    parsed = searcher.understand(query)[0]
    assert searcher.coverage(parsed).matched is matched


@pytest.mark.parametrize("query, matched", [
    ("backpack rain cover", False),    # a kind of Bags said before a word that names Home's duvet covers
    ("yoga mat bag", False),
    ("dress shoes size 42", False),    # a kind of Clothing before one of Shoes
    ("running shorts, black", False),  # a category's word before a word that names no kind here
    ("phone case", True),              # what the case is for is no kind ("phone" names no title)
    ("smartphone charger", True),      # two kinds of one department go together
    ("running socks", True),           # what they are for
    ("hiking backpack", True),
    ("phone storage 256gb", True),     # an attribute key after a kind
    ("running shoes women", True),     # who they are for
    ("有鞋带卖吗", False),              # 鞋 + 带: a one-character kind and what it is not
    ("sock drawer organiser", False),   # a word the catalog never uses, after a kind, names the need
    ("face wash for oily skin", True),  # a kind's own name
    ("my mum says her pans stick, want a new frying pan", True),
    ("键盘鼠标套装", False),             # 套装 is any set: the words before it name the need
    ("non slip yoga matt", True),       # one edit from the asked department's mat ("matt" is a word: no typo fix)
    ("鞋子", True),
])
def test_a_compound_of_two_kinds_names_neither(searcher, query, matched):
    parsed = searcher.understand(query)[0]
    assert searcher.coverage(parsed).matched is matched, searcher.coverage(parsed)


@pytest.mark.parametrize("query, category, matched", [
    ("something warm for cold winter nights", "Home > Bedding", True),
    ("gift for someone who loves baking, under 200", "Home > Kitchen", True),
    ("earplugs for sleeping", None, False),   # the need is named, and not sold: the interest does not replace it
    ("跑步机", None, False),                   # a word that only begins with 跑步
])
def test_search_reads_a_told_interest_as_the_chat_does(searcher, query, category, matched):
    res = searcher.search(query, k=5, facets=False)
    assert (res.parsed.categories or [None])[0] == category and res.matched is matched
    if category:
        assert all(h.product.category == tuple(category.split(" > ")) for h in res.hits)
