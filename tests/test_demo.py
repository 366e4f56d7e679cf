"""The demo store: determinism, shape of the catalogue, and the planted patterns measured from the events."""

from __future__ import annotations

import json
import re
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from daogou.catalog.demo import DemoConfig, DemoData, DemoTruth, generate_demo
from daogou.catalog.demo_vocab import CATEGORIES, COLOUR_CHARS_ZH, COLOUR_WORDS_EN, COLOURS
from daogou.catalog.models import EVENT_TYPES, validate_event, validate_product

SMALL = DemoConfig(seed=7, n_products=400, n_shoppers=150)
COLOUR_RE = re.compile(r"\b(" + "|".join(COLOUR_WORDS_EN) + r")\b", re.IGNORECASE)
CJK_RE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def full(tmp_path_factory) -> tuple[DemoData, Path]:
    image_dir = tmp_path_factory.mktemp("home") / "images"
    t0 = time.perf_counter()
    data = generate_demo(DemoConfig(), image_dir=image_dir)
    elapsed = time.perf_counter() - t0
    print(f"\ngenerate_demo(DemoConfig(), image_dir) took {elapsed:.2f}s, {len(data.events)} events")
    assert elapsed < 60  # about 3 s on one core; only pathological slowness fails
    return data, image_dir


@pytest.fixture(scope="module")
def data(full) -> DemoData:
    return full[0]


@pytest.fixture(scope="module")
def small() -> DemoData:
    return generate_demo(SMALL)


def _cat(p) -> str:
    return " > ".join(p.category)


def _true_colour(data: DemoData, p) -> str:
    return p.attributes.get("color") or data.truth.hidden_colour[p.id]


def _purchases(data: DemoData):
    products = {p.id: p for p in data.products}
    for e in data.events:
        if e.type == "purchase":
            yield e, products[e.product_id], data.truth.shoppers[e.shopper_id]


# ---------------------------------------------------------------- determinism and truth

def test_same_seed_same_data(small):
    again = generate_demo(SMALL)
    assert again.products == small.products
    assert again.events == small.events
    assert again.shoppers == small.shoppers
    assert again.truth.to_dict() == small.truth.to_dict()


def test_different_seed_differs(small):
    other = generate_demo(DemoConfig(seed=8, n_products=400, n_shoppers=150))
    assert [p.title for p in other.products] != [p.title for p in small.products]
    assert [(e.product_id, e.ts_ms) for e in other.events] != [(e.product_id, e.ts_ms) for e in small.events]
    assert other.truth.co_purchase != small.truth.co_purchase


def test_truth_round_trips_through_json(small):
    d = json.loads(json.dumps(small.truth.to_dict(), ensure_ascii=False))
    back = DemoTruth.from_dict(d)
    assert back == small.truth
    assert isinstance(back.co_purchase[0], tuple) and isinstance(next(iter(back.price_bands.values())), tuple)


def test_without_image_dir_paths_are_set_but_nothing_written(small, tmp_path, monkeypatch):
    assert all(p.image == f"images/{p.id}.png" for p in small.products)
    monkeypatch.chdir(tmp_path)
    generate_demo(DemoConfig(seed=3, n_products=50, n_shoppers=5))
    assert not any(tmp_path.iterdir())


# ---------------------------------------------------------------- catalogue

def test_catalogue_shape(data):
    products = data.products
    assert len(products) == 2000
    assert [p.id for p in products] == [f"P{i:05d}" for i in range(1, 2001)]
    for p in products:
        validate_product(p)
        assert p.currency == "CNY" and p.price is not None and p.price > 0
        assert len(p.category) == 2 and p.brand
        assert {"size", "material"} <= set(p.attributes) and len(p.attributes) >= 3
    cats = Counter(_cat(p) for p in products)
    assert len(cats) >= 12 and min(cats.values()) >= 50
    for cat in cats:
        brands = {p.brand for p in products if _cat(p) == cat}
        assert 4 <= len(brands) <= 8, (cat, brands)
    out = sum(not p.in_stock for p in products) / len(products)
    assert 0.02 <= out <= 0.09


def test_prices_realistic_with_three_bands(data):
    bands = data.truth.price_bands
    by_cat = defaultdict(list)
    for p in data.products:
        by_cat[_cat(p)].append(p.price)
    phones, cases = by_cat["Electronics > Phones"], by_cat["Electronics > Phone Cases"]
    assert 999 <= min(phones) and max(phones) <= 6999
    assert 19 <= min(cases) and max(cases) <= 129
    for cat, prices in by_cat.items():
        b1, b2 = bands[cat]
        assert b1 < b2
        counts = Counter(data.truth.band_of(cat, x) for x in prices)
        assert min(counts[b] for b in ("budget", "mid", "premium")) >= len(prices) / 6, (cat, counts)


def test_two_languages_with_translations(data):
    langs = Counter(p.language for p in data.products)
    assert set(langs) == {"en", "zh"}
    assert 0.65 <= langs["en"] / len(data.products) <= 0.85
    vocab = data.truth.vocabulary["category"]
    for p in data.products:
        other = "zh" if p.language == "en" else "en"
        tr = p.translations[other]
        assert set(tr) == {"title", "description", "category"} and tr["title"] and tr["description"]
        zh_title = p.title if p.language == "zh" else tr["title"]
        en_title = p.title if p.language == "en" else tr["title"]
        assert CJK_RE.search(zh_title) and p.brand in en_title
        if other == "zh":
            assert tr["category"] == vocab[_cat(p)]
        else:
            assert tr["category"] == _cat(p)


def _texts(p) -> list[str]:
    out = [p.title, p.description, *(str(v) for v in p.attributes.values())]
    for tr in p.translations.values():
        out += [tr["title"], tr["description"]]
    return out


def test_hidden_colour_never_in_text(data):
    hidden = data.truth.hidden_colour
    assert 0.22 <= len(hidden) / len(data.products) <= 0.33
    assert set(data.truth.vocabulary["colour"]) == set(COLOURS)
    products = {p.id: p for p in data.products}
    for pid, colour in hidden.items():
        p = products[pid]
        assert colour in COLOURS and "color" not in p.attributes
        for text in _texts(p):
            assert not COLOUR_RE.search(text), (pid, text)
            assert not any(ch in text for ch in COLOUR_CHARS_ZH), (pid, text)


def test_visible_colour_named_in_both_languages(data):
    for p in data.products:
        if p.id in data.truth.hidden_colour:
            continue
        colour = p.attributes["color"]
        en = p.title if p.language == "en" else p.translations["en"]["title"]
        zh = p.title if p.language == "zh" else p.translations["zh"]["title"]
        assert colour in en.lower() and COLOURS[colour][0] in zh, p


def _dominant_colour(path: Path) -> str:
    px = np.asarray(Image.open(path).convert("RGB")).reshape(-1, 3).astype(int)
    fg = px[np.abs(px - px[0]).sum(axis=1) > 24]
    values, counts = np.unique(fg, axis=0, return_counts=True)
    top = values[counts.argmax()]
    names = list(COLOURS)
    refs = np.array([COLOURS[n][1] for n in names])
    return names[int(((refs - top) ** 2).sum(axis=1).argmin())]


def test_images_written_and_show_the_true_colour(full):
    data, image_dir = full
    assert len(list(image_dir.glob("*.png"))) == len(data.products)
    for p in data.products:
        assert p.image == f"images/{p.id}.png"
        path = image_dir / f"{p.id}.png"
        with Image.open(path) as img:
            assert img.size == (64, 64)
        assert _dominant_colour(path) == _true_colour(data, p), p.id


# ---------------------------------------------------------------- shoppers and events

def test_shoppers_carry_only_their_language(data):
    assert [s.id for s in data.shoppers] == [f"U{i:04d}" for i in range(1, 1001)]
    for s in data.shoppers:
        truth = data.truth.shoppers[s.id]
        assert s.attributes == {"language": truth.language}
        assert 1 <= len(truth.categories) <= 2 and set(truth.brands) == set(truth.categories)
        assert truth.price_level in ("budget", "mid", "premium") and truth.colour in (None, *COLOURS)
    with_colour = sum(t.colour is not None for t in data.truth.shoppers.values()) / len(data.shoppers)
    assert 0.3 <= with_colour <= 0.5


def test_events_valid_ordered_and_sensible(data):
    events = data.events
    assert 25_000 <= len(events) <= 50_000
    assert [e.ts_ms for e in events] == sorted(e.ts_ms for e in events)
    products = {p.id: p for p in data.products}
    for e in events:
        validate_event(e)
        assert e.session_id.startswith(e.shopper_id + "-s")
        assert e.product_id is None or e.product_id in products
    counts = Counter(e.type for e in events)
    assert set(counts) == set(EVENT_TYPES)
    sessions = {e.session_id for e in events}
    assert counts["search"] == len(sessions)
    assert 2 * len(sessions) <= counts["view"] <= 6 * len(sessions)
    assert 0.5 <= counts["purchase"] / len(sessions) <= 0.75
    assert counts["click"] < counts["view"] and counts["fav"] < counts["purchase"] <= counts["cart"] * 1.5
    assert all(products[e.product_id].in_stock for e in events if e.type == "purchase")
    per_shopper = Counter(e.shopper_id for e in events if e.type == "search")
    assert min(per_shopper.values()) >= 3 and len(per_shopper) == len(data.shoppers)
    start = 1_767_225_600_000
    assert start <= events[0].ts_ms and events[-1].ts_ms < start + 80 * 86_400_000


def test_sessions_start_with_a_search_in_the_shoppers_language(data):
    first: dict[str, object] = {}
    for e in data.events:
        first.setdefault(e.session_id, e)
    assert all(e.type == "search" for e in first.values())
    for e in first.values():
        zh = data.truth.shoppers[e.shopper_id].language == "zh"
        assert bool(CJK_RE.search(e.query)) == zh, e


def test_search_queries_name_the_session_category(data):
    products = {p.id: p for p in data.products}
    terms = {" > ".join(s["path"]): [t.lower() for pair in s["query"] for t in pair] for s in CATEGORIES}
    by_session = defaultdict(list)
    for e in data.events:
        by_session[e.session_id].append(e)
    for evs in by_session.values():
        cats = {_cat(products[e.product_id]) for e in evs if e.product_id}
        assert len(cats) == 1
        assert any(t in evs[0].query.lower() for t in terms[cats.pop()]), evs[0]


def test_purchases_follow_preferred_categories(data):
    rows = list(_purchases(data))
    assert len(rows) > 2000
    share = sum(_cat(p) in st.categories for _, p, st in rows) / len(rows)
    assert share >= 0.6  # chance is about 1.5 / 16


def test_purchases_favour_the_favourite_brand(data):
    rows = [(p, st) for _, p, st in _purchases(data) if _cat(p) in st.categories]
    share = sum(p.brand == st.brands[_cat(p)] for p, st in rows) / len(rows)
    assert share >= 0.5  # chance is about 1 / 5.5


def test_purchases_match_the_price_level(data):
    rows = list(_purchases(data))
    share = sum(data.truth.band_of(_cat(p), p.price) == st.price_level for _, p, st in rows) / len(rows)
    assert share >= 0.5  # chance is 1 / 3
    phones = defaultdict(list)
    for _, p, st in rows:
        if _cat(p) == "Electronics > Phones":
            phones[st.price_level].append(p.price)
    assert np.median(phones["budget"]) < np.median(phones["mid"]) < np.median(phones["premium"])


def test_purchases_match_the_colour_taste_even_when_hidden(data):
    rows = [(p, st) for _, p, st in _purchases(data) if st.colour]
    share = sum(_true_colour(data, p) == st.colour for p, st in rows) / len(rows)
    assert share >= 0.5  # chance is 1 / 10
    hidden = [(p, st) for p, st in rows if p.id in data.truth.hidden_colour]
    assert len(hidden) >= 50
    assert sum(data.truth.hidden_colour[p.id] == st.colour for p, st in hidden) / len(hidden) >= 0.5
    no_taste = [p for _, p, st in _purchases(data) if not st.colour]
    top = Counter(_true_colour(data, p) for p in no_taste).most_common(1)[0][1] / len(no_taste)
    assert top < 0.2


def test_co_purchase_pairs_are_bought_in_order(data):
    pairs = data.truth.co_purchase
    assert 25 <= len(pairs) <= 35 and len({a for a, _ in pairs}) == len(pairs)
    products = {p.id: p for p in data.products}
    assert all(a != b and products[a].in_stock and products[b].in_stock for a, b in pairs)
    assert len({_cat(products[a]) for a, _ in pairs}) >= 6
    bought = defaultdict(list)
    for e, _, _ in _purchases(data):
        bought[e.shopper_id].append((e.ts_ms, e.session_id, e.product_id))
    n = k = base_n = base_k = 0
    for a, b in pairs:
        for lst in bought.values():
            ta = [(t, s) for t, s, p in lst if p == a]
            if ta:
                n += 1
                k += any(p == b and t > ta[0][0] and s != ta[0][1] for t, s, p in lst)
            else:
                base_n += 1
                base_k += any(p == b for _, _, p in lst)
    assert n >= 50
    assert k / n >= 0.6
    assert base_k / base_n < 0.05  # buying b without a is rare
