"""Query understanding against the demo store's own vocabulary: known answers in English, Chinese and both."""

from __future__ import annotations

import time

import pytest

from daogou.catalog.demo import DemoConfig, generate_demo
from daogou.catalog.models import Product
from daogou.errors import ValidationError
from daogou.search.currency import DEFAULT_RATES
from daogou.search.query import CATEGORY_MATCH_MIN, ParsedQuery, parse_query
from daogou.search.vocab import Vocabulary, tokens


@pytest.fixture(scope="module")
def demo():
    return generate_demo(DemoConfig(seed=0, n_products=2000, n_shoppers=0))


@pytest.fixture(scope="module")
def vocab(demo) -> Vocabulary:
    return Vocabulary.from_products(demo.products)


def _constraints(pq: ParsedQuery) -> dict:
    return {"price_min": pq.price_min, "price_max": pq.price_max, "categories": pq.categories, "brands": pq.brands,
            "exclude_brands": pq.exclude_brands, "attributes": pq.attributes,
            "exclude_attributes": pq.exclude_attributes, "sort": pq.sort}


NONE = {"price_min": None, "price_max": None, "categories": [], "brands": [], "exclude_brands": [], "attributes": {},
        "exclude_attributes": {}, "sort": None}


# ---------------------------------------------------------------- known answers

def test_red_running_shoes_under_300_yuan_size_42(vocab):
    pq = parse_query("red running shoes under ¥300 size 42", vocab)
    assert _constraints(pq) == {**NONE, "price_max": 300.0, "categories": ["Shoes > Running"],
                                "attributes": {"color": ["red"], "size": ["42"]}}
    assert pq.currency == "CNY" and pq.language == "en"
    assert pq.text == "red running shoes size 42"
    assert pq.matched


def test_english_brand_exclusion(vocab, demo):
    assert any(p.brand == "Feicheng" and p.category == ("Shoes", "Running") for p in demo.products)
    pq = parse_query("running shoes not Feicheng", vocab)
    assert _constraints(pq) == {**NONE, "categories": ["Shoes > Running"], "exclude_brands": ["Feicheng"]}
    assert pq.text == "running shoes"
    assert parse_query("shoes without Feicheng, Korvo or Strydo", vocab).exclude_brands == \
        ["Feicheng", "Korvo", "Strydo"]
    assert parse_query("dress except Rouhe", vocab).exclude_brands == ["Rouhe"]


def test_chinese_headphones_under_500_without_a_chinese_brand(vocab, demo):
    assert any(p.brand == "Shengmu" and p.category == ("Electronics", "Headphones") for p in demo.products)
    pq = parse_query("500元以内的蓝牙耳机 不要声沐", vocab)
    assert _constraints(pq) == {**NONE, "price_max": 500.0, "categories": ["Electronics > Headphones"],
                                "exclude_brands": ["Shengmu"]}
    assert pq.currency == "CNY" and pq.language == "zh"
    assert pq.text == "蓝牙耳机"


def test_cheapest_yoga_mat(vocab):
    pq = parse_query("最便宜的瑜伽垫", vocab)
    assert _constraints(pq) == {**NONE, "categories": ["Sports > Yoga"], "sort": "price_asc"}
    assert pq.text == "瑜伽垫"


def test_between_100_and_200_yuan_backpack(vocab):
    pq = parse_query("between 100 and 200 yuan backpack", vocab)
    assert _constraints(pq) == {**NONE, "price_min": 100.0, "price_max": 200.0, "categories": ["Bags > Backpacks"]}
    assert pq.currency == "CNY" and pq.text == "backpack"


def test_chinese_price_range_running_shoes(vocab):
    pq = parse_query("300到500元的跑鞋", vocab)
    assert _constraints(pq) == {**NONE, "price_min": 300.0, "price_max": 500.0, "categories": ["Shoes > Running"]}
    assert pq.currency == "CNY" and pq.text == "跑鞋" and pq.language == "zh"


def test_red_dress_in_chinese_uses_the_mined_colour(vocab):
    pq = parse_query("红色 连衣裙", vocab)
    assert _constraints(pq) == {**NONE, "categories": ["Clothing > Dresses"], "attributes": {"color": ["red"]}}
    assert ("attribute", "红色") in vocab.mined


def test_mixed_language(vocab):
    pq = parse_query("Feicheng 跑鞋 under 500", vocab)
    assert _constraints(pq) == {**NONE, "price_max": 500.0, "categories": ["Shoes > Running"],
                                "brands": ["Feicheng"]}
    assert pq.currency is None and pq.language == "mixed" and pq.text == "Feicheng 跑鞋"


def test_cheapest_alone(vocab):
    pq = parse_query("cheapest", vocab)
    assert _constraints(pq) == {**NONE, "sort": "price_asc"}
    assert pq.text == ""


@pytest.mark.parametrize("query, sort", [("most expensive phone", "price_desc"), ("最贵的手机", "price_desc"),
                                         ("便宜的T恤", "price_asc"), ("lowest price socks", "price_asc")])
def test_sort_words(vocab, query, sort):
    pq = parse_query(query, vocab)
    assert pq.sort == sort and pq.categories


# ---------------------------------------------------------------- prices

@pytest.mark.parametrize("query, lo, hi, currency", [
    ("socks under $80", None, 80, "USD"), ("socks below 80", None, 80, None), ("socks less than 80", None, 80, None),
    ("socks < 80", None, 80, None), ("socks up to 80", None, 80, None), ("socks max 80", None, 80, None),
    ("socks 80 or less", None, 80, None), ("socks cheaper than 80", None, 80, None),
    ("socks over 50", 50, None, None), ("socks above 50", 50, None, None), ("socks more than 50 rmb", 50, None, "CNY"),
    ("socks 100-200", 100, 200, None), ("socks $100 to $200", 100, 200, "USD"),
    ("袜子500元以下", None, 500, "CNY"), ("袜子500以内", None, 500, None), ("袜子不超过500", None, 500, None),
    ("袜子低于500", None, 500, None), ("袜子500块以下", None, 500, "CNY"), ("袜子300-500元", 300, 500, "CNY"),
    ("袜子500元以上", 500, None, "CNY"), ("袜子高于500", 500, None, None),
    ("phone under 1.5k", None, 1500, None), ("2千以内的手机", None, 2000, None), ("手机1万以下", None, 10000, None),
    ("phone 1-2k", 1000, 2000, None), ("ＵＮＤＥＲ ＄８０ socks", None, 80, "USD"),
])
def test_price_phrases(vocab, query, lo, hi, currency):
    pq = parse_query(query, vocab)
    rate = DEFAULT_RATES[currency] / DEFAULT_RATES["CNY"] if currency not in (None, "CNY") else 1.0
    assert (pq.price_min, pq.price_max, pq.currency) == (lo and lo * rate, hi and hi * rate, currency)
    if rate != 1.0:  # said in dollars in a yuan store: converted, and what was said is kept
        assert (pq.asked["price_min"], pq.asked["price_max"], pq.asked["currency"]) == (lo, hi, currency)
    assert not any(ch.isdigit() for ch in pq.text), pq.text


def test_numbers_that_are_not_prices(vocab):
    for query in ("building blocks 8+", "shampoo 750ml", "phone 256GB", "36码跑鞋"):
        pq = parse_query(query, vocab)
        assert pq.price_min is None and pq.price_max is None, query


# ---------------------------------------------------------------- sizes, negation, attributes

@pytest.mark.parametrize("query", ["42码跑鞋", "跑鞋 42号", "running shoes size 42", "尺码42的跑鞋"])
def test_sizes(vocab, query):
    assert parse_query(query, vocab).attributes == {"size": ["42"]}


def test_bare_or_unknown_sizes_are_not_constraints(vocab):
    assert parse_query("42 running shoes", vocab).attributes == {}  # before the kind: a count as likely as a size
    assert parse_query("running shoes size 47", vocab).attributes == {}


@pytest.mark.parametrize("query", ["something soft for every single night", "not a single one was comfy",
                                   "let me double-check the price"])
def test_store_words_in_idioms_name_no_value(vocab, query):
    assert parse_query(query, vocab, categories_hint=("Home > Bedding",)).attributes == {}
    assert parse_query("a single bed duvet", vocab).attributes == {"size": ["Single"]}


@pytest.mark.parametrize("query, size", [("a medium dress", "M"), ("small t-shirt", "S"), ("中号的连衣裙", "M"),
                                         ("medium backpack", "Medium")])
def test_size_words_of_a_kind_sized_in_letters(vocab, query, size):
    assert parse_query(query, vocab).attributes == {"size": [size]}


def test_nothing_before_a_value_excludes_it_and_a_tied_typo_keeps_its_beginning(vocab):
    pq = parse_query("a dress for a wedding, nothing black, under 800", vocab)
    assert pq.attributes == {} and pq.exclude_attributes == {"color": ["black"]} and pq.price_max == 800
    assert parse_query("lookin for a bagpack for school", vocab).categories == ["Bags > Backpacks"]  # not daypack


@pytest.mark.parametrize("query", ["i drop my phone a lot", "我手机老摔"])
def test_the_shoppers_own_host_is_no_new_category(vocab, query):
    hint = ("Electronics > Phone Cases",)
    assert parse_query(query, vocab, categories_hint=hint).categories == []
    assert parse_query("show me phones instead", vocab, categories_hint=hint).categories == ["Electronics > Phones"]


@pytest.mark.parametrize("query, excluded", [
    ("不要红色的连衣裙", {"color": ["red"]}), ("dress without red", {"color": ["red"]}),
    ("dress not red or blue", {"color": ["red", "blue"]}), ("跑鞋别要红色", {"color": ["red"]}),
    ("连衣裙 不要红色和蓝色", {"color": ["red", "blue"]}),
    ("kitchen knife set, non-ceramic", {"material": ["ceramic"]}), ("不要磁吸的手机壳", {"feature": ["magnetic"]}),
    ("phone case without the magnet thing", {"feature": ["magnetic"]}),
])
def test_negated_attributes(vocab, query, excluded):
    pq = parse_query(query, vocab)
    assert pq.exclude_attributes == excluded and pq.attributes == {}
    assert pq.categories


@pytest.mark.parametrize("query", ["no noise cancelling headphones", "headphones without noise cancelling",
                                   "earbuds w/o anc", "不带降噪的耳机", "没有降噪的耳机", "不降噪的耳机"])
def test_a_yes_or_no_feature_said_not_wanted_asks_for_those_that_say_no(vocab, query):
    pq = parse_query(query, vocab)
    assert pq.attributes == {"noise_cancelling": ["no"]} and pq.exclude_attributes == {}


@pytest.mark.parametrize("query", ["hiking boots, doesn't need to be waterproof", "不防水的登山鞋也行",
                                   "hiking boots - no need for waterproof"])
def test_a_value_said_as_not_needed_asks_nothing_either_way(vocab, query):
    pq = parse_query(query, vocab)
    assert pq.categories == ["Shoes > Hiking"] and pq.attributes == {} and pq.exclude_attributes == {}


def test_have_you_got_is_no_negation(vocab):
    assert parse_query("有没有红色的跑鞋", vocab).attributes == {"color": ["red"]}
    assert parse_query("有没有主动降噪的耳机", vocab).attributes == {"noise_cancelling": ["yes"]}


def test_negation_words_inside_other_words_are_not_cues(vocab):
    assert parse_query("特别好看的红色连衣裙", vocab).attributes == {"color": ["red"]}
    assert parse_query("别的跑鞋", vocab).categories == ["Shoes > Running"]
    pq = parse_query("除了飞骋以外的跑鞋", vocab)
    assert pq.exclude_brands == ["Feicheng"] and pq.categories == ["Shoes > Running"] and pq.text == "跑鞋"


def test_negated_category_is_dropped(vocab):
    pq = parse_query("not running shoes", vocab)
    assert pq.categories == [] and pq.text == ""


def test_attribute_values_follow_the_category(vocab):
    assert "all" not in parse_query("all red dresses", vocab).attributes.get("hair_type", [])
    assert parse_query("all red", vocab).attributes == {"color": ["red"]}  # "all" is a hair type, not asked here
    assert parse_query("max cushioning running shoes", vocab).attributes == {"cushioning": ["max"]}
    assert parse_query("slim t-shirt", vocab).attributes == {"fit": ["slim"]}
    assert parse_query("XL码纯棉T恤", vocab).attributes == {"size": ["XL"], "material": ["cotton"]}


# ---------------------------------------------------------------- category matcher

def test_category_matcher_only_without_a_vocabulary_category(vocab):
    calls: list[str] = []

    def matcher(text: str) -> list[tuple[str, float]]:
        calls.append(text)
        return [("Toys > Building Blocks", 0.2), ("Home > Kitchen", 0.71)]

    pq = parse_query("red running shoes", vocab, category_matcher=matcher)
    assert calls == [] and pq.categories == ["Shoes > Running"]
    pq = parse_query("something for a garden party under 100", vocab, category_matcher=matcher)
    assert calls == ["something for a garden party"]
    assert pq.categories == ["Home > Kitchen"] and pq.price_max == 100
    assert any("embedding" in note for note in pq.matched)


def test_category_matcher_below_threshold_is_ignored(vocab):
    low = CATEGORY_MATCH_MIN - 0.1
    pq = parse_query("garden party", vocab, category_matcher=lambda text: [("Home > Kitchen", low)])
    assert pq.categories == []


# ---------------------------------------------------------------- garbage in

@pytest.mark.parametrize("query", ["", "   ", "\t\n"])
def test_empty_query_is_an_error(vocab, query):
    with pytest.raises(ValidationError) as err:
        parse_query(query, vocab)
    assert err.value.field == "query" and "empty" in err.value.reason


def test_overlong_query_is_an_error(vocab):
    with pytest.raises(ValidationError) as err:
        parse_query("x" * 10_000, vocab)
    assert err.value.field == "query" and "too long" in err.value.reason


@pytest.mark.parametrize("query", ["🙂🙂🙂", "\x00\x01\ufffd", "\udcff\udcfe", "\u200b\u200d", "!!!???", "\x1b[31m"])
def test_garbage_gives_no_constraints(vocab, query):
    pq = parse_query(query, vocab)
    assert _constraints(pq) == NONE
    assert pq.text.strip("[m0123456789") == ""


@pytest.mark.parametrize("query", [b"\xff\xfe", None, 42])
def test_non_text_is_an_error(vocab, query):
    with pytest.raises(ValidationError):
        parse_query(query, vocab)  # type: ignore[arg-type]


def test_control_characters_are_stripped(vocab):
    pq = parse_query("red\x00 running\x07 shoes\u200b", vocab)
    assert pq.text == "red running shoes" and pq.categories == ["Shoes > Running"]


# ---------------------------------------------------------------- the vocabulary itself

def test_mining_found_chinese_brand_and_colour_aliases(vocab, demo):
    zh_brands = {a: b for (kind, a) in vocab.mined if kind == "brand" and (b := vocab.brands[a])}
    assert vocab.brands.get("飞骋") == "Feicheng" and ("brand", "飞骋") in vocab.mined
    assert len([a for a in zh_brands if all("\u4e00" <= c <= "\u9fff" for c in a)]) >= 10
    for alias, brand in zh_brands.items():  # each mined alias really is in that brand's Chinese titles
        titles = [p.title if p.language == "zh" else p.translations["zh"]["title"]
                  for p in demo.products if p.brand == brand]
        assert sum(alias in t.lower() for t in titles) >= 0.6 * len(titles)
    colours = {kv[1] for a in vocab.attributes for kv in vocab.attributes[a]
               if kv[0] == "color" and ("attribute", a) in vocab.mined}
    assert {"red", "blue", "black", "white"} <= colours
    assert ("color", "red") in vocab.attributes["红色"]
    assert ("material", "cotton") in vocab.attributes["纯棉"]


def test_mining_works_on_invented_names():
    """Nothing is looked up: a store with made-up brands and colours yields their aliases from its own texts."""
    products = []
    for i in range(60):
        brand, zh = ("Qorvenn", "阔文") if i % 3 == 0 else ("Blathe", "布莱瑟") if i % 3 == 1 else ("Mirrow", "米若")
        colour, zh_colour = ("teal", "青绿色") if i % 2 else ("umber", "赭石色")
        cat = ("Garden", "Pots") if i % 4 < 2 else ("Garden", "Hoses")
        noun = "花盆" if cat[1] == "Pots" else "水管"
        products.append(Product(
            id=f"X{i}", title=f"{brand} {colour.title()} {cat[1][:-1]}", category=cat, brand=brand, price=10.0 + i,
            currency="EUR", attributes={"color": colour}, language="en",
            translations={"zh": {"title": f"{zh} {zh_colour}{noun}", "category": f"园艺 > {noun}"}}))
    v = Vocabulary.from_products(products)
    assert v.brands["阔文"] == "Qorvenn" and v.brands["布莱瑟"] == "Blathe" and v.brands["米若"] == "Mirrow"
    assert ("color", "teal") in v.attributes["青绿色"] and ("color", "umber") in v.attributes["赭石色"]
    assert v.categories["园艺"] == {"Garden"} and v.categories["花盆"] == {"Garden > Pots"}
    assert (v.currency, v.price_min, v.price_max) == ("EUR", 10.0, 69.0)
    pq = parse_query("不要阔文的青绿色花盆", v)
    assert pq.exclude_brands == ["Qorvenn"] and pq.attributes == {"color": ["teal"]}
    assert pq.categories == ["Garden > Pots"]


def test_category_words_do_not_become_brand_or_value_aliases(vocab):
    for alias in ("跑鞋", "耳机", "连衣裙", "running", "shoes"):
        assert alias not in vocab.brands and alias not in vocab.attributes
    assert vocab.categories["鞋"] == {"Shoes"} and vocab.categories["跑鞋"] == {"Shoes > Running"}
    assert vocab.categories["backpack"] == {"Bags > Backpacks"}


def test_catalog_price_range_and_currency(vocab, demo):
    prices = [p.price for p in demo.products]
    assert (vocab.price_min, vocab.price_max, vocab.currency) == (min(prices), max(prices), "CNY")


def test_longest_match_wins(vocab):
    matches = vocab.find("phone case 手机壳")
    assert [(m.kind, m.paths) for m in matches] == [("category", ("Electronics > Phone Cases",))] * 2


def test_tokens():
    toks = tokens("飞骋 Red Running-Shoes 42码 6.1\"")
    assert {"red", "running", "shoes", "42", "码", "6.1"} <= set(toks)
    assert "飞骋" in toks or {"飞", "骋"} <= set(toks)


def test_building_is_fast(demo, vocab):
    started = time.perf_counter()
    Vocabulary.from_products(demo.products)
    assert time.perf_counter() - started < 2.0  # about 0.2-0.4 s; generous for loaded CI machines


@pytest.mark.parametrize("text, categories", [
    ("yoga mat to use at home", ["Sports > Yoga"]),
    ("she works from home and wants headphones", ["Electronics > Headphones"]),
    ("home decor", ["Home"]),  # the department, named as one
])
def test_home_said_as_a_place_names_no_department(vocab, text, categories):
    assert parse_query(text, vocab).categories == categories


@pytest.mark.parametrize("text, key, value", [
    ("ankle socks pack of 6", "pack", "6 pairs"),        # a count said the shoppers' way
    ("running socks 5-pack", "pack", "5 pairs"),
    ("袜子 3双装", "pack", "3 pairs"),
    ("纯棉四件套", "pieces", "4-piece set"),
    ("积木 1000片", "pieces", "1000 pcs"),
    ("modal t-shirt, regular fit, grey, L", "size", "L"),  # a size's letters as an item of a list
    ("有没有T恤啊，宽松款，男朋友穿L", "size", "L"),
    ("yoga mat, standard size, non slip", "size", "Standard"),  # the key named beside it decides
    ("yoga block, not EVA", None, None),
    ("argan hair oil", "material", "argan oil"),          # a material by its telling word
])
def test_values_said_the_shoppers_way(vocab, text, key, value):
    pq = parse_query(text, vocab)
    if key is None:
        assert pq.exclude_attributes.get("material") == ["EVA foam"]
    else:
        assert value in pq.attributes.get(key, []), (pq.attributes, pq.matched)


@pytest.mark.parametrize("text", ["dress M please", "i'm after a backpack", "t-shirt in l"])
def test_a_lone_size_letter_needs_its_key_or_a_list(vocab, text):
    assert "size" not in parse_query(text, vocab).attributes


def test_not_too_much_of_a_value(vocab):
    dress = parse_query("a dress for a summer wedding, nothing too long", vocab)
    assert dress.categories == ["Clothing > Dresses"] and "long" in dress.exclude_attributes.get("sleeve", [])
    shoes = parse_query("not too expensive running shoes", vocab)  # said of the price: the kind stays wanted
    assert shoes.categories == ["Shoes > Running"] and shoes.sort is None


@pytest.mark.parametrize("text, key, value", [("the second one in XL?", "size", "XL"),
                                              ("charger that can charge 3 devices at once", "ports", "3"),
                                              ("charger，要 2 口的", "ports", "2")])
def test_a_weak_value_with_what_it_is_said_with(vocab, text, key, value):
    assert parse_query(text, vocab).attributes.get(key) == [value]


@pytest.mark.parametrize("text, key, values", [
    ("charger 65w or more", "power", ["65W", "100W"]),
    ("phone with at least 256gb", "storage", ["256GB", "512GB", "1TB"]),   # 1TB is more than 512GB
    ("headphones with 30h+ battery", "battery", ["30h", "40h"]),
    ("phone with more than 8gb ram", "ram", ["12GB", "16GB"]),
    ("charger up to 33w", "power", ["20W", "33W"]),
    ("充电器 65W以上", "power", ["65W", "100W"]),
    ("running shoes size 42 or bigger", "size", ["42"]),         # a size fits or does not
    ("积木 8岁以上", "age", ["8+"]),                               # an age is a toy's label
])
def test_an_amount_said_as_a_bound_wants_every_value_within_it(vocab, text, key, values):
    assert parse_query(text, vocab).attributes.get(key) == values


@pytest.mark.parametrize("text, key, value", [("three pack of crew socks", "pack", "3 pairs"),
                                              ("a two port charger", "ports", "2"),
                                              ("能同时充三个设备的充电器", "ports", "3"),
                                              ("充电器要能同时充三个的", "ports", "3")])
def test_counts_said_in_words(vocab, text, key, value):
    assert parse_query(text, vocab).attributes.get(key) == [value]


@pytest.mark.parametrize("text", ["backpack, nothing crazy expensive, maybe 300 tops",
                                  "headphones, doesnt have to be super expensive"])
def test_not_wanting_to_pay_much_is_no_order_and_excludes_nothing(vocab, text):
    q = parse_query(text, vocab)
    assert q.sort is None and not q.exclude_words and not q.exclude_attributes


@pytest.mark.parametrize("text, category, attributes", [
    ("白色船袜", "Clothing > Socks", {"color": ["white"], "height": ["ankle"]}),  # the kind and its height
    ("短袖连衣裙 S码", "Clothing > Dresses", {"sleeve": ["short"], "size": ["S"]}),
    ("短袖", "Clothing > T-Shirts", {}),                  # a T-shirt's sleeve is no value of the store's T-shirts
    ("65-watt charger", "Electronics > Chargers", {"power": ["65W"]}),
    ("building blocks, the 2000 piece ones", "Toys > Building Blocks", {"pieces": ["2000 pcs"]}),
    ("a 40-litre backpack", "Bags > Backpacks", {"capacity": ["40L"]}),
])
def test_a_word_that_says_a_kind_and_its_value_and_hyphenated_amounts(vocab, text, category, attributes):
    q = parse_query(text, vocab)
    assert q.categories == [category] and q.attributes == attributes


@pytest.mark.parametrize("text, categories, attributes, exclude_brands, sort", [
    ("bamboo socks crew length", ["Clothing > Socks"], {"material": ["bamboo fibre"], "height": ["crew"]}, [], None),
    ("need a spatula set, my old wooden ones cracked, want silicone", ["Home > Kitchen"],
     {"material": ["silicone"]}, [], None),                                   # what they had is not what they want
    ("想要一个 backpack 去 hiking，40L 的", ["Bags > Backpacks"], {"capacity": ["40L"]}, [], None),  # 去: what for
    ("T恤 贵一点的好货", ["Clothing > T-Shirts"], {}, [], "price_desc"),
    ("tonvia's out too", [], {}, ["Tonvia"], None),
    ("手机算了 看看充电器", ["Electronics > Chargers"], {}, [], None),
    ("送 girlfriend 的 face cream，她混合皮", ["Beauty > Skincare"], {"skin_type": ["combination"]}, [], None),
])
def test_needs_said_around_other_words(vocab, text, categories, attributes, exclude_brands, sort):
    q = parse_query(text, vocab)
    assert (q.categories, q.attributes, q.exclude_brands, q.sort) == (categories, attributes, exclude_brands, sort)


@pytest.mark.parametrize("text, sizes", [
    ("running shoes 42", ["42"]), ("red running shoes 42 or 43", ["42", "43"]), ("跑鞋 42的", ["42"]),
    ("hiking boots, 43", ["43"]),
    ("running shoes 300", None), ("running shoes under 42", None),  # a price, and a bound: never a size
    ("shoes 42 red running", ["42"]), ("running shoes 42 pieces", None),  # words may follow; a count may not
])
def test_a_size_number_right_after_a_kind_sold_in_it_is_that_size(vocab, text, sizes):
    pq = parse_query(text, vocab)
    assert pq.attributes.get("size") == sizes


@pytest.mark.parametrize("text, key, value", [
    ("oily skin care", "skin_type", "oily"), ("greasy hair shampoo", "hair_type", "oily"),
    ("头发很油 有什么洗发水推荐", "hair_type", "oily"), ("油皮用的面霜", "skin_type", "oily"),
])
def test_a_shared_value_word_with_what_it_describes_is_that_keys_value(vocab, text, key, value):
    pq = parse_query(text, vocab)
    assert pq.attributes == {key: [value]}


def test_a_size_after_a_kind_and_its_values_is_that_size(vocab):
    pq = parse_query("hiking boots waterproof, mens 43", vocab)
    assert pq.attributes == {"waterproof": ["yes"], "size": ["43"]}


@pytest.mark.parametrize("text, key, values", [
    ("lego 500 to 1000 pieces", "pieces", ["500 pcs", "1000 pcs"]),
    ("lego between 500 and 1000 pcs", "pieces", ["500 pcs", "1000 pcs"]),
    ("backpack 20-30L", "capacity", ["20L", "25L", "30L"]),
])
def test_a_range_of_amounts_gives_every_value_within_it(vocab, text, key, values):
    assert parse_query(text, vocab).attributes == {key: values}


def test_shoppers_hedges_and_asides(vocab):
    assert parse_query("running shoes, dont want to spend more than like 600", vocab).price_max == 600
    assert parse_query("running shoes no more than about 600", vocab).price_max == 600
    knives = parse_query("knife set not from chujiang", vocab)
    assert knives.exclude_brands == ["Chujiang"] and not knives.brands
    assert parse_query("vegan friendly hiking boots in 42", vocab).attributes == {"size": ["42"]}
    assert parse_query("a yoga mat that won't slip", vocab).attributes == {"grip": ["non-slip"]}
    # the shopper's own phone is what the charger is for, not a second need
    assert parse_query("a charger that can do my phone and laptop at once", vocab).categories == \
        ["Electronics > Chargers"]


def test_a_material_said_not_wanted_is_kept_though_the_kind_has_none_of_it(vocab):
    pq = parse_query("cutting board for my new flat, wood not plastic", vocab)
    assert pq.attributes == {"material": ["wood"]} and pq.exclude_attributes == {"material": ["plastic"]}


def test_a_value_complained_about_is_left_out_and_big_sizes_are_xl(vocab):
    pq = parse_query("跑鞋 白色的太容易脏了", vocab)
    assert pq.exclude_attributes == {"color": ["white"]} and not pq.attributes
    assert parse_query("t恤 有大码吗", vocab).attributes == {"size": ["XL"]}
