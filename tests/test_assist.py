"""The shopping guide: message understanding, constraint state, and multi-turn conversations with known answers."""

from __future__ import annotations

import time

import pytest

from daogou.assist import Assistant, Constraints, understand
from daogou.assist.state import Conversations
from daogou.catalog.demo_store import load_demo_truth
from daogou.catalog.models import Product
from daogou.catalog.store import Store
from daogou.config import StoreConfig
from daogou.errors import NotFoundError, ValidationError
from daogou.generate import LLMConfig, Writer, get_backend
from daogou.generate.grounding import Lexicon
from daogou.search.engine import SearchConfig
from daogou.search.index_store import open_searcher
from daogou.search.query import parse_query
from daogou.search.vocab import Vocabulary

PRODUCTS = [
    Product("a", "Kairo Red Over-Ear Headphones", category=("Electronics", "Headphones"), brand="Kairo", price=159,
            currency="CNY", attributes={"color": "red"}),
    Product("b", "Echolo Wireless Earbuds", category=("Electronics", "Headphones"), brand="Echolo", price=219,
            currency="CNY", attributes={"color": "blue"}),
    Product("c", "Lumo Running Shoes", category=("Shoes", "Running"), brand="Lumo", price=399, currency="CNY",
            attributes={"color": "black"}),
]


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return Vocabulary.from_products(PRODUCTS)


@pytest.mark.parametrize("message, shown, kind, refs, move", [
    ("headphones", 0, "search", [], None),
    ("cheaper", 3, "refine", [], "cheaper"),
    ("便宜一点", 3, "refine", [], "cheaper"),
    ("more expensive", 3, "refine", [], "pricier"),
    ("in red", 3, "refine", [], None),
    ("不要Echolo", 3, "refine", [], None),
    ("the second one", 3, "detail", [1], None),
    ("第二个", 3, "detail", [1], None),
    ("is the second one waterproof?", 3, "question", [1], None),
    ("is it comfortable?", 3, "question", [], None),
    ("compare the first two", 3, "compare", [0, 1], None),
    ("对比第一个和第三个", 3, "compare", [0, 2], None),
    ("a gift", 0, "clarify", [], None),
    ("我想买个礼物", 0, "clarify", [], None),
    ("a gift under 300", 0, "search", [], None),
    ("start over", 3, "reset", [], None),
    ("你好", 0, "greet", [], None),
    ("thanks!", 3, "thanks", [], None),
    ("ok thank you so much", 3, "thanks", [], None),
    ("好的谢谢", 3, "thanks", [], None),
    ("bye", 3, "thanks", [], None),
    ("thanks, now show me headphones", 3, "search", [], None),
    ("what's your return policy?", 3, "service", [], None),
    ("包邮吗", 0, "service", [], None),
    ("still pricey", 3, "refine", [], "cheaper"),
    ("还是有点贵", 3, "refine", [], "cheaper"),
    ("one that can do three devices at once", 3, "refine", [], None),   # a wish described, not a question
    ("ideally one with noise cancelling", 3, "refine", [], None),
    ("does the first one have noise cancelling", 3, "question", [0], None),
    ("有没有行李箱", 3, "search", [], None),                               # another thing, named
    ("compare the first and the last", 3, "compare", [0, 2], None),
    ("golf balls for my dad's birthday", 0, "search", [], None),        # a product named for an occasion: judged
    ("那就第二个吧", 3, "cart", [1], None),                               # choosing one is taking it
    ("something for my dad's birthday", 0, "clarify", [], None),
    ("有没有男款", 3, "refine", [], None),                                 # a style of the kind on show
    ("买第一个", 3, "cart", [0], None),                                   # to buy one on show is to cart it
    ("要第二个吧", 3, "cart", [1], None),
])
def test_understanding_of_messages(vocab, message, shown, kind, refs, move):
    u = understand(message, vocab, shown)
    assert (u.kind, u.refs, u.price_move) == (kind, refs, move)


@pytest.mark.parametrize("message, kind, vague, price_max", [
    ("something for my mom", "clarify", True, None),                      # a new need, not more running shoes
    ("ok cool. now i also need a present for my sister's birthday", "clarify", True, None),
    ("有没有适合送女朋友的", "clarify", True, None),
    ("what about a gift for my boyfriend, under 300", "search", True, 300),
    ("给同事买个小礼物，两百以内", "search", True, 200),
    ("in black", "refine", False, None),                                  # still the running shoes
    ("one for my wife too", "refine", False, None),
])
def test_a_need_for_someone_else_starts_a_new_topic(vocab, message, kind, vague, price_max):
    u = understand(message, vocab, 3, topic=("Shoes > Running",))
    assert (u.kind, u.vague, u.parsed.price_max) == (kind, vague, price_max)


@pytest.mark.parametrize("message, more", [
    ("show me something else", True), ("any other options?", True), ("还有别的吗", True), ("换一批", True),
    ("in red", False), ("cheaper", False),
])
def test_asking_for_other_products_keeps_the_need(vocab, message, more):
    u = understand(message, vocab, 3, topic=("Electronics > Headphones",))
    assert u.kind == "refine" and u.more is more


def test_a_named_product_for_someone_is_a_search_not_a_gift_question(vocab):
    u = understand("想给老婆买个吹风机", vocab, 0)  # the product is named: a search (the store may not sell it)
    assert u.kind == "search" and not u.vague and u.gift


@pytest.mark.parametrize("message, colour", [("navy headphones", "blue"), ("burgundy earbuds", "red"),
                                             ("酒红色耳机", "red"), ("藏青色的耳机", "blue")])
def test_a_shade_reaches_the_colour_the_store_uses(vocab, message, colour):
    assert parse_query(message, vocab).attributes == {"color": [colour]}


def test_a_bare_number_that_is_a_size_of_the_kind_on_show_is_that_size(guide):
    assistant, _, products, _ = guide
    conv = assistant.start("U0006")
    assistant.reply(conv, "hiking boots")
    for message in ("do u have them in 43?", "43 please"):
        r = assistant.reply(conv, message)
        assert r.kind == "refine" and r.constraints["categories"] == ["Shoes > Hiking"]
        assert r.constraints["attributes"] == {"size": ["43"]} and r.constraints["price_max"] is None
        assert products[r.cards[0].id].attributes["size"] == "43"
    assert assistant.reply(conv, "500").constraints["price_max"] == 500  # not a size: the budget


@pytest.mark.parametrize("message, words, text", [
    ("headphones but not over-ear", ["over-ear"], "headphones"),
    ("不要头戴式的耳机", ["头戴式"], "耳机"),
    ("not too expensive headphones", [], "not too expensive headphones"),  # said of the price, not a sort
    ("no idea what to get", [], "no idea what to get"),
])
def test_a_negated_word_is_left_out_of_the_search_and_kept_as_an_exclusion(vocab, message, words, text):
    parsed = parse_query(message, vocab)
    assert parsed.exclude_words == words and parsed.text == text


def test_no_two_clarifying_questions_in_a_row(vocab):
    assert understand("a gift", vocab, 0, asked_last_turn=False).kind == "clarify"
    assert understand("a gift", vocab, 0, asked_last_turn=True).kind == "search"


def test_reply_language_follows_the_message(vocab):
    assert understand("耳机", vocab).language == "zh"
    assert understand("不要Echolo", vocab, 3).language == "zh"
    assert understand("headphones", vocab).language == "en"


def test_constraints_accumulate_and_are_revised(vocab):
    c = Constraints().updated(parse_query("red headphones under 300", vocab), new_topic=True)
    assert c.categories == ("Electronics > Headphones",) and c.price_max == 300 and c.attributes == {"color": ("red",)}
    c = c.updated(parse_query("in blue", vocab), new_topic=False)        # a new colour replaces the old one
    assert c.attributes == {"color": ("blue",)} and c.price_max == 300
    c = c.updated(parse_query("不要Echolo", vocab), new_topic=False)      # exclusions add up
    c = c.updated(parse_query("not Kairo", vocab), new_topic=False)
    assert set(c.exclude_brands) == {"Echolo", "Kairo"} and c.filters().exclude_brands == c.exclude_brands
    assert "blue" in c.query_text() and "headphones" in c.query_text()
    c = c.updated(parse_query("running shoes", vocab), new_topic=True)  # a new kind of product: a new topic
    assert c.categories == ("Shoes > Running",) and c.exclude_brands == () and c.price_max is None


def test_cheaper_and_pricier_move_the_price_bound():
    c = Constraints().moved("cheaper", [100.0, 200.0, 400.0])
    assert c.price_max is not None and c.price_max < 200
    c = Constraints(price_max=150).moved("pricier", [100.0, 120.0, 140.0])
    assert c.price_min is not None and c.price_min > 120 and c.price_max is None


def test_conversations_belong_to_one_shopper():
    convs = Conversations()
    conv = convs.start("alice")
    assert convs.get(conv.id, "alice") is conv
    with pytest.raises(NotFoundError):
        convs.get(conv.id, "mallory")  # looks exactly like a conversation that does not exist
    with pytest.raises(NotFoundError):
        convs.get("nope", "alice")


def test_conversations_outlive_the_process_in_the_store(tmp_path):
    with Store.open(StoreConfig(home=tmp_path)) as store:
        convs = Conversations(store=store)
        conv = convs.start("alice", "zh")
        conv.constraints = Constraints(words="耳机", price_max=300.0, exclude_brands=("Kairo",),
                                       attributes={"color": ("red",)}, attribute_words={"color": "红色"})
        conv.shown, conv.asked_last_turn = ["a", "b"], True
        convs.save(conv)
        later = Conversations(store=store)  # a restarted server: nothing in memory
        back = later.get(conv.id, "alice")
        assert back.to_dict() == conv.to_dict() and back.constraints == conv.constraints
        with pytest.raises(NotFoundError):
            later.get(conv.id, "mallory")
        conv.shown = ["c"]  # continued by the first process: the other one sees the newer state
        conv.updated_ms += 1
        convs.save(conv)
        assert later.get(conv.id, "alice").shown == ["c"]
        time.sleep(0.01)
        with pytest.raises(NotFoundError):  # idle longer than the time to live
            Conversations(store=store, ttl_s=0.005).get(conv.id, "alice")
        assert store.prune_conversations(conv.updated_ms + 1) == 1
        with pytest.raises(NotFoundError):
            Conversations(store=store).get(conv.id, "alice")


# ---------------------------------------------------------------- conversations on the demo store

@pytest.fixture(scope="module")
def guide(served_home):
    from daogou.rec.realtime import LiveRecommender
    store = Store.open(StoreConfig(home=served_home))
    searcher, _ = open_searcher(store, SearchConfig(encoder="hashing"))
    recommender = LiveRecommender(store, str(served_home / "models" / "daogou-rec"))
    writer = Writer(get_backend(LLMConfig(backend="template")), Lexicon.from_products(searcher.products))
    recorded = []
    assistant = Assistant(store, searcher, recommender, writer, record=recorded.extend)
    yield assistant, load_demo_truth(served_home), {p.id: p for p in searcher.products}, recorded
    store.close()


def test_a_conversation_continues_after_a_restart(guide):
    assistant, _, products, _ = guide
    conv = assistant.start("U0002")
    first = assistant.reply(conv, "headphones under 400")
    prices = sorted(products[c.id].price for c in first.cards)
    restarted = Assistant(assistant.store, assistant.searcher, assistant.recommender, assistant.writer)
    again = restarted.conversations.get(conv.id, "U0002")
    assert again is not conv and again.shown == [c.id for c in first.cards]
    cheaper = restarted.reply(again, "cheaper")
    assert cheaper.kind == "refine" and cheaper.cards
    assert all(products[c.id].price < prices[len(prices) // 2] for c in cheaper.cards)
    assert all(products[c.id].category == ("Electronics", "Headphones") for c in cheaper.cards)
    second = restarted.reply(again, "the second one")
    assert [c.id for c in second.cards] == [cheaper.cards[1].id]
    assert [t.role for t in restarted.conversations.get(conv.id, "U0002").turns] == ["shopper", "assistant"] * 3


def _leaf(path: str) -> str:
    return path.split(" > ")[-1].lower()


def test_a_conversation_refines_the_right_way(guide):
    assistant, truth, products, recorded = guide
    conv = assistant.start("U0002")
    first = assistant.reply(conv, "headphones")
    assert first.kind == "search" and len(first.cards) >= 4 and first.text
    assert all(products[c.id].category == ("Electronics", "Headphones") for c in first.cards)
    prices = sorted(products[c.id].price for c in first.cards)

    cheaper = assistant.reply(conv, "cheaper")
    assert cheaper.kind == "refine" and cheaper.cards
    assert all(products[c.id].price < prices[len(prices) // 2] for c in cheaper.cards)
    assert all(products[c.id].category == ("Electronics", "Headphones") for c in cheaper.cards)

    brand = cheaper.cards[0].brand
    excluded = assistant.reply(conv, f"不要{brand}")
    assert excluded.language == "zh" and excluded.cards
    assert all(products[c.id].brand != brand for c in excluded.cards)
    assert all(products[c.id].price < prices[len(prices) // 2] for c in excluded.cards)  # the budget stays

    shown = [c.id for c in excluded.cards]
    second = assistant.reply(conv, "the second one")
    assert second.kind == "detail" and [c.id for c in second.cards] == [shown[1]]
    assert any(e.type == "click" and e.product_id == shown[1] for e in recorded)

    compared = assistant.reply(conv, "compare the first two")
    assert compared.kind == "compare" and [c.id for c in compared.cards] == shown[:2]
    assert compared.text


def test_asked_colour_comes_first(guide):
    assistant, truth, products, _ = guide
    conv = assistant.start("U0003")
    assistant.reply(conv, "t-shirts")
    red = assistant.reply(conv, "in red")
    labelled = [c for c in red.cards if products[c.id].attributes.get("color") == "red"]
    assert labelled, "the demo store has red T-shirts"
    assert products[red.cards[0].id].attributes.get("color") == "red"
    assert any("red" in w for w in red.cards[0].why)


def test_personal_picks_follow_the_planted_brand_taste(guide):
    """For shoppers with a planted favourite brand in a category, asking for that category puts the brand in the
    top three more often than it does for a new shopper with no history."""
    assistant, truth, products, _ = guide
    personal = anonymous = total = 0
    for sid, t in list(truth.shoppers.items())[:40]:
        for cat, brand in t.brands.items():
            query = _leaf(cat)
            top = [c.brand for c in assistant.reply(assistant.start(sid), query).cards[:3]]
            cold = [c.brand for c in assistant.reply(assistant.start(f"new-{sid}"), query).cards[:3]]
            personal += brand in top
            anonymous += brand in cold
            total += 1
    assert total >= 40
    assert personal / total > anonymous / total + 0.15, (personal, anonymous, total)


def test_something_else_shows_other_products_of_the_same_need(guide):
    assistant, _, products, _ = guide
    conv = assistant.start("U0003")
    first = assistant.reply(conv, "running shoes")
    seen = {c.id for c in first.cards}
    for message in ("show me something else", "还有别的吗"):
        more = assistant.reply(conv, message)
        assert more.kind == "refine" and more.cards and more.matched
        assert {products[c.id].category for c in more.cards} == {("Shoes", "Running")}
        assert not seen & {c.id for c in more.cards}  # none of the products shown for this need so far
        seen |= {c.id for c in more.cards}


@pytest.mark.parametrize("answer, price_max", [("she likes cooking, budget 200", 200), ("他喜欢爬山，五百以内", 500)])
def test_the_answer_to_who_it_is_for_is_never_not_sold(guide, answer, price_max):
    assistant, _, products, _ = guide
    conv = assistant.start("U0004")
    assert assistant.reply(conv, "running shoes").cards  # products on show before the new need
    assert assistant.reply(conv, "a gift for my mom").kind == "clarify"
    picks = assistant.reply(conv, answer)  # what the person likes: words for the search, not a product to judge
    assert picks.kind == "search" and picks.matched and picks.cards
    assert picks.constraints["price_max"] == price_max
    assert all(products[c.id].price <= price_max for c in picks.cards)


@pytest.mark.parametrize("question, key, pick", [("which one has the longest battery?", "battery", max),
                                                ("哪个续航最短", "battery", min)])
def test_which_shown_product_has_the_most(guide, question, key, pick):
    assistant, _, products, _ = guide
    conv = assistant.start("U0005")
    shown = assistant.reply(conv, "headphones").cards
    values = {c.id: float(products[c.id].attributes[key].rstrip("h")) for c in shown if key in products[c.id].attributes}
    assert len(set(values.values())) >= 2  # the demo's headphones differ in battery life
    r = assistant.reply(conv, question)
    assert r.kind == "question" and values[r.cards[0].id] == pick(values.values())


@pytest.mark.parametrize("question, pick", [("which of these is the cheapest?", min), ("哪款最贵啊", max),
                                            ("and the least expensive?", min)])
def test_which_shown_product_costs_least_is_answered_among_the_cards(guide, question, pick):
    assistant, _, products, _ = guide
    conv = assistant.start("U0006")
    shown = assistant.reply(conv, "backpack").cards
    r = assistant.reply(conv, question)
    assert r.kind == "question" and len(r.cards) == 1 and r.constraints["sort"] is None
    assert r.cards[0].price == pick(c.price for c in shown) and r.cards[0].price_text in r.text
    again = assistant.reply(conv, "show me the cheapest ones")  # a request for others: a sort, not a pick
    assert again.kind == "refine" and again.constraints["sort"] == "price_asc"


def test_the_biggest_one_picks_by_the_quantity_its_adjective_means(guide):
    assistant, _, products, _ = guide
    conv = assistant.start("U0006")
    shown = assistant.reply(conv, "backpack").cards
    litres = {c.id: float(products[c.id].attributes["capacity"].rstrip("L")) for c in shown}
    r = assistant.reply(conv, "the biggest one")
    assert r.kind == "question" and litres[r.cards[0].id] == max(litres.values())
    unstated = assistant.reply(conv, "which one's lightest?")  # no listing states a weight: said, none picked
    assert unstated.kind == "question" and not unstated.cards and "weight" in unstated.text and unstated.matched


def test_the_shoppers_own_phone_is_not_a_new_need(guide):
    assistant, _, products, _ = guide
    conv = assistant.start("U0006")
    assistant.reply(conv, "phone case")
    r = assistant.reply(conv, "something more protective, i drop my phone a lot")
    assert r.kind == "refine" and r.constraints["attributes"] == {"feature": ["shockproof"]}
    assert {products[c.id].category for c in r.cards} == {("Electronics", "Phone Cases")}


def test_a_chinese_turn_names_the_kind_in_chinese(guide):
    assistant, *_ = guide
    conv = assistant.start("U0006")
    assistant.reply(conv, "hiking boots")
    r = assistant.reply(conv, "有便宜点的吗")
    assert r.language == "zh" and "hiking" not in r.text and "登山" in r.text


@pytest.mark.parametrize("drop", ["actually forget the budget", "price doesn't matter tbh", "预算不限了"])
def test_dropping_the_budget_keeps_the_need(guide, drop):
    assistant, _, products, _ = guide
    conv = assistant.start("U0006")
    assert assistant.reply(conv, "running shoes under 300").constraints["price_max"] == 300
    r = assistant.reply(conv, drop)
    assert r.kind == "refine" and r.matched and r.constraints["price_max"] is None
    assert r.constraints["categories"] == ["Shoes > Running"] and r.cards


def test_something_in_another_colour_is_a_search_not_a_question_about_the_first_card(guide):
    assistant, _, products, _ = guide
    conv = assistant.start("U0006")
    assistant.reply(conv, "t shirts")
    r = assistant.reply(conv, "hmm none of these. something in green?")
    assert r.kind == "refine" and r.constraints["attributes"] == {"color": ["green"]}
    assert r.cards and products[r.cards[0].id].attributes.get("color") == "green"  # colour ranks; it never filters


def test_a_question_about_all_the_cards_says_what_no_listing_states(guide):
    assistant, *_ = guide
    conv = assistant.start("U0006")
    assistant.reply(conv, "running shoes")
    r = assistant.reply(conv, "are these any good for wide feet?")
    assert r.kind == "question" and not r.cards and "wide feet" in r.text


@pytest.mark.parametrize("message, ref", [("add the first one to my cart", 0), ("第三个加入购物车", 2)])
def test_taking_a_product_puts_it_in_the_cart(guide, message, ref):
    assistant, _, products, _ = guide
    carts = []
    record = assistant.record
    assistant.record = lambda events: (carts.extend(e for e in events if e.type == "cart"), record(events))
    try:
        conv = assistant.start("U0006")
        shown = assistant.reply(conv, "yoga mat").cards
        r = assistant.reply(conv, message)
    finally:
        assistant.record = record
    assert r.kind == "cart" and [c.id for c in r.cards] == [shown[ref].id]
    assert [e.product_id for e in carts] == [shown[ref].id]
    assert assistant.reply(conv, "i want to buy running shoes").kind == "search"  # buying words with a need


@pytest.mark.parametrize("message", ["show me your best selling headphones", "最近卖得最好的耳机"])
def test_best_sellers_come_most_bought_first(guide, message):
    assistant, *_ = guide
    conv = assistant.start("U0006")
    r = assistant.reply(conv, message)
    assert r.constraints["sort"] == "popular" and r.constraints["categories"] == ["Electronics > Headphones"]
    bought = assistant.searcher.popularity.scores()
    scores = [bought.get(c.id, 0.0) for c in r.cards]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0
    found = [bought.get(h.product_id, 0.0) for h in assistant.searcher.search(message, k=6).hits]  # /v1/search too
    assert found == sorted(found, reverse=True) and found[0] > 0


@pytest.mark.parametrize("message, move", [("anything similar to the second one but cheaper?", "cheaper"),
                                           ("类似第二个的还有吗", None)])
def test_products_like_a_shown_one(guide, message, move):
    assistant, _, products, _ = guide
    conv = assistant.start("U0006")
    second = products[assistant.reply(conv, "running shoes").cards[1].id]
    r = assistant.reply(conv, message)
    assert r.kind == "refine" and r.cards and second.id not in {c.id for c in r.cards}
    assert {products[c.id].category for c in r.cards} == {second.category}
    if move == "cheaper":
        assert all(c.price < second.price for c in r.cards) and r.constraints["price_max"] < second.price


def test_what_about_another_value_refines_and_a_medium_is_size_m(guide):
    assistant, _, products, _ = guide
    conv = assistant.start("U0006")
    assistant.reply(conv, "skincare for dry skin")
    r = assistant.reply(conv, "what about oily skin")
    assert r.kind == "refine" and r.constraints["attributes"] == {"skin_type": ["oily"]}
    shown = assistant.reply(conv, "dresses").cards
    r = assistant.reply(conv, "got it in a medium?")
    size = products[shown[0].id].attributes["size"]
    assert r.kind == "question" and r.answer[0]["verdict"] == ("yes" if size == "M" else "no")


@pytest.mark.parametrize("first, again", [("第一个有降噪吗", "那第二个呢"), ("does the first one have noise cancelling?",
                                                                     "and the second?")])
def test_the_same_question_of_another_product(guide, first, again):
    assistant, _, products, _ = guide
    conv = assistant.start("U0006")
    shown = assistant.reply(conv, "headphones").cards
    assert assistant.reply(conv, first).answer[0]["key"] == "noise_cancelling"
    r = assistant.reply(conv, again)
    assert r.kind == "question" and r.cards[0].id == shown[1].id
    assert r.answer[0]["key"] == "noise_cancelling"
    assert r.answer[0]["value"] == products[shown[1].id].attributes.get("noise_cancelling")


def test_something_described_refines_the_kind_on_show(guide):
    assistant, *_ = guide
    conv = assistant.start("U0006")
    assistant.reply(conv, "yoga mat")
    r = assistant.reply(conv, "something eco friendly")  # the mats, described: not a new vague need
    assert r.kind == "refine" and r.constraints["categories"] == ["Sports > Yoga"] and r.cards
    assert "blue or green yoga" in assistant.reply(conv, "blue or green").text  # both colours, as said


def test_not_over_ear_leaves_over_ear_headphones_out(guide):
    assistant, _, products, _ = guide
    conv = assistant.start("U0007")
    assert any("Over-Ear" in products[c.id].title for c in assistant.reply(conv, "headphones").cards)
    for message in ("no over-ear", "under 1000"):  # and the exclusion stays with the need
        r = assistant.reply(conv, message)
        assert r.cards and not any("over-ear" in products[c.id].title.lower() for c in r.cards)
        assert r.constraints["exclude_words"] == ["over-ear"]


def test_one_clarifying_question_then_picks(guide):
    assistant, *_ = guide
    conv = assistant.start("U0005")
    asked = assistant.reply(conv, "a gift")
    assert asked.kind == "clarify" and not asked.cards and "?" in asked.text and asked.chips
    picks = assistant.reply(conv, "a gift")  # still vague: never a second question in a row
    assert picks.kind != "clarify" and picks.cards
    budget = assistant.reply(conv, "under 100")
    assert budget.cards and all(c.price <= 100 for c in budget.cards)


def test_chinese_conversation(guide):
    assistant, truth, products, _ = guide
    conv = assistant.start("U0001")
    r = assistant.reply(conv, "耳机 300元以内")
    assert r.language == "zh" and r.cards and all(c.price <= 300 for c in r.cards)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in r.text)
    r2 = assistant.reply(conv, "便宜一点")
    assert r2.cards and max(c.price for c in r2.cards) < max(c.price for c in r.cards)


def test_bad_messages_are_refused(guide):
    assistant, *_ = guide
    conv = assistant.start("U0001")
    with pytest.raises(ValidationError):
        assistant.reply(conv, "   ")
    with pytest.raises(ValidationError):
        assistant.reply(conv, "x" * 5000)


def test_every_reason_on_a_card_is_true_for_that_shopper_against_the_store(guide):
    """Each "why" is one of the known reasons and holds for the card, the conversation and the shopper's own events
    in the store: the budget for the card's price, an asked-for value the product has, a liked brand the shopper's
    events name, a product named as viewed or bought that the shopper's events hold (in the card's category). A
    brand-new guest has no history, so no reason of history."""
    import re

    from daogou.assist.engine import _short
    assistant, _, products, _ = guide
    checked, kinds = 0, set()
    for shopper in ("guest-never-seen-before", "U0002", "U0007", "U0011"):
        events = [(r[5], r[4]) for r in assistant.store.event_rows([shopper]) if r[5] is not None]
        seen_ids = {pid for pid, _ in events}
        bought_ids = {pid for pid, kind in events if kind == "purchase"}
        brands = {products[pid].brand for pid in seen_ids if pid in products}
        conv = assistant.start(shopper)
        for message in ("headphones", "under 300", "in black", "running shoes", "不要Korvo", "backpacks", "cheaper"):
            reply = assistant.reply(conv, message)
            cons = reply.constraints
            for card in reply.cards:
                p = products[card.id]
                for why in card.why:
                    checked += 1
                    if why in ("within your budget", "在你的预算内"):
                        assert (cons["price_max"] is None or p.price <= cons["price_max"]) and \
                            (cons["price_min"] is None or p.price >= cons["price_min"]), (why, p.price, cons)
                        kinds.add("budget")
                    elif m := re.fullmatch(r"(.+), as you asked|(.+)，符合你的要求", why):
                        values = {str(v).lower() for v in p.attributes.values()}
                        assert set((m.group(1) or m.group(2)).lower().split()) <= values, (why, p.attributes)
                        kinds.add("value")
                    elif m := re.fullmatch(r"(.+), a brand you like|你喜欢的品牌：(.+)", why):
                        assert (m.group(1) or m.group(2)) == p.brand and p.brand in brands, (why, shopper)
                        kinds.add("brand")
                    elif m := re.fullmatch(r"like (.+), which you (looked at|bought)|和你(看过|买过)的(.+)(?:相似|同类)", why):
                        title, how = m.group(1) or m.group(4), m.group(2) or m.group(3)
                        named = [products[i] for i in (bought_ids if how in ("bought", "买过") else seen_ids)
                                 if i in products and products[i].category == p.category and title in
                                 {_short(products[i].text(lang)[0] or products[i].title) for lang in ("en", "zh")}]
                        assert named, (why, shopper)
                        kinds.add("history")
                    else:
                        assert why in ("closest match to your words", "最符合你的描述", "cheaper than before",
                                       "比刚才的更便宜", "a step up in price", "价位更高一档"), why
                    if shopper.startswith("guest"):
                        assert "you like" not in why and "which you" not in why, why
    assert checked > 40 and {"budget", "value", "history"} <= kinds, kinds


def test_what_the_store_does_not_sell_is_said_plainly(guide):
    """No stand-ins dressed up as picks: the reply names what was asked, shows no cards, offers what the store
    sells, and the search is still recorded (what shoppers could not find is worth knowing)."""
    assistant, _, products, recorded = guide
    conv = assistant.start("U0003")
    miss = assistant.reply(conv, "do you have bathroom fans?")
    assert (miss.matched, miss.cards, miss.unmatched) == (False, [], ["bathroom", "fans"])
    assert "“bathroom fans”" in miss.text and miss.chips
    assert recorded[-1].type == "search" and "bathroom fans" in recorded[-1].query
    zh = assistant.reply(conv, "有电饭煲吗")
    assert zh.matched is False and "电饭煲" in zh.text and zh.language == "zh" and not zh.cards
    head = assistant.reply(conv, "我是油皮 夏天用的防晒有吗")  # what follows 的 is what is asked for
    assert head.matched is False and head.unmatched == ["防晒"] and not head.cards
    found = assistant.reply(conv, "running shoes")
    assert found.matched and found.cards and found.constraints["categories"] == ["Shoes > Running"]
    added = assistant.reply(conv, "in teal")  # a word added to the need: said, and the need is kept
    assert added.kind == "refine" and added.matched is False and "teal" in added.text
    assert added.constraints["categories"] == ["Shoes > Running"]
    assert added.cards and {products[c.id].category for c in added.cards} == {("Shoes", "Running")}  # still shown
    assert assistant.reply(conv, "under 500").cards  # and the shopper goes on from it


def test_every_word_that_names_the_kind_is_searched(guide):
    """"yoga mat" names the category by two words; both are searched, so mats come first, not straps and blocks
    that share the category (and the shopper's history)."""
    assistant, _, products, _ = guide
    for shopper in ("U0002", "U0005"):
        reply = assistant.reply(assistant.start(shopper), "yoga mat")
        assert reply.constraints["category_words"] == "yoga mat" and "yoga mat" in reply.text
        assert all("Yoga Mat" in products[c.id].title or "瑜伽垫" in products[c.id].title for c in reply.cards[:3]), [products[c.id].title for c in reply.cards]


@pytest.mark.parametrize("message, category", [
    ("my aunt's phone is always dead by lunchtime, gift idea?", ("Electronics", "Chargers")),  # not phones
    ("grandpa always complains his feet are freezing in winter", ("Clothing", "Socks")),
    ("what would a keen home baker want? max 250", ("Home", "Kitchen")),  # "home" names no department here
    ("i want to start doing pilates at home", ("Sports", "Yoga")),
    ("闺蜜是个护肤达人，每天晚上都要敷面膜", ("Beauty", "Skincare")),
    ("老公手机老是摔，屏幕都碎好几次了", ("Electronics", "Phone Cases")),
    ("somethin to keep my coffee hot on the commute", ("Home", "Kitchen")),  # the commute is when, not what
])
def test_an_interest_or_trouble_finds_the_kind_that_serves_it(guide, message, category):
    """By the interest lines, with any encoder (the hashing one knows no meanings)."""
    assistant, _, products, _ = guide
    r = assistant.reply(assistant.start("U0006"), message)
    assert r.kind == "search" and r.cards and {products[c.id].category for c in r.cards} == {category}
    assert "asked for" not in r.text and "想找" not in r.text  # the kind was inferred, not asked for by name


def test_an_interest_the_store_has_nothing_for_is_asked_about(guide):
    assistant, _, _, _ = guide
    for message in ("my uncle is really into fishing, any gift ideas?", "我爸特别喜欢钓鱼，送他什么好"):
        assert assistant.reply(assistant.start("U0006"), message).kind == "clarify"  # not a guessed category


@pytest.mark.parametrize("message, first, then", [
    ("need a yoga mat and some socks", ("Sports", "Yoga"), ("ok now the socks", ("Clothing", "Socks"))),
    ("耳机和充电器都想看看", ("Electronics", "Headphones"), ("充电器呢", ("Electronics", "Chargers"))),
])
def test_two_needs_in_one_message_are_taken_one_at_a_time(guide, message, first, then):
    assistant, _, products, _ = guide
    conv = assistant.start("U0007")
    r = assistant.reply(conv, message)
    assert r.kind == "search" and {products[c.id].category for c in r.cards} == {first}
    offered = then[0].split()[-1].rstrip("呢")
    assert offered in r.chips and offered in r.text  # the second need is offered, in the reply's language
    assert offered in r.text[-40:]  # offered last, after the reasons for the first card
    nxt = assistant.reply(conv, then[0])
    assert nxt.kind == "search" and {products[c.id].category for c in nxt.cards} == {then[1]}


def test_of_two_interests_the_one_the_store_serves(guide):
    assistant, _, products, _ = guide
    r = assistant.reply(assistant.start("U0008"), "a present for my mum, she loves gardening and cooking")
    assert r.kind == "search" and {products[c.id].category for c in r.cards} == {("Home", "Kitchen")}


def test_too_much_of_a_value_leaves_it_out(guide):
    assistant, _, products, _ = guide
    conv = assistant.start("U0008")
    assistant.reply(conv, "backpack")
    r = assistant.reply(conv, "that's too small, something bigger")
    assert r.constraints["exclude_attributes"] == {"size": ["Small"]}
    assert all(products[c.id].attributes.get("size") != "Small" for c in r.cards)


def test_cards_that_lack_the_values_asked_for_are_not_said_to_have_them(guide):
    assistant, _, products, _ = guide
    conv = assistant.start("U0008")
    running = [p for p in products.values() if p.category == ("Shoes", "Running")]
    pairs = {(p.attributes.get("color"), p.attributes.get("size")) for p in running}
    colors = {c for c, _ in pairs if c} & {"red", "blue", "green", "black", "white"}
    color, size = next((c, s) for c in sorted(colors) for s in sorted({s for _, s in pairs if s})
                       if (c, s) not in pairs)  # each exists, no running shoe has both
    r = assistant.reply(conv, f"{color} running shoes size {size}")
    assert r.cards and "Nothing here is exactly" in r.text and f"size {size}" in r.text.split(";")[0]
    assert f"picks for {color}" not in r.text and "picks for running shoes" in r.text
    assert f'asked for "{color}' not in r.text  # the first card's reason is not the values it lacks


def test_a_chinese_reply_names_a_size_and_a_colour_in_chinese(guide):
    assistant, _, _, _ = guide
    conv = assistant.start("U0009")
    assistant.reply(conv, "老板，来双跑鞋")
    assert "43码" in assistant.reply(conv, "43的有没有").text
    text = assistant.reply(conv, "要白色的").text
    assert "size" not in text and "白色的跑鞋" not in text and "白色" in text
    picked = assistant.reply(conv, "最便宜的那双多少钱")  # "that pair": among the cards, not a cheaper search
    assert picked.kind == "question" and "最便宜" in picked.text


@pytest.mark.parametrize("first, question", [("earbuds under 300", "which ones have noise cancelling?"),
                                             ("登山鞋", "哪几款是防水的")])
def test_which_of_the_cards_have_a_value(guide, first, question):
    assistant, _, products, _ = guide
    conv = assistant.start("U0010")
    shown = assistant.reply(conv, first).cards
    key = "noise_cancelling" if "noise" in question else "waterproof"
    having = [c.id for c in shown if products[c.id].attributes.get(key) == "yes"]
    r = assistant.reply(conv, question)
    assert r.kind == "question" and [c.id for c in r.cards] == having  # every card on show, not the first


@pytest.mark.parametrize("kind, purpose, category", [("socks", "for running", ("Clothing", "Socks")),
                                                     ("backpack", "for hiking", ("Bags", "Backpacks"))])
def test_what_the_kind_on_show_is_for_refines_it(guide, kind, purpose, category):
    assistant, _, products, _ = guide
    conv = assistant.start("U0011")
    assistant.reply(conv, kind)
    r = assistant.reply(conv, purpose)  # "for running" after socks: running socks, not running shoes
    assert r.kind == "refine" and {products[c.id].category for c in r.cards} == {category}


@pytest.mark.parametrize("turns, kind, category, attributes, words", [
    (["yoga mats", "cork ones?"], "refine", ("Sports", "Yoga"), {"material": ["cork"]}, None),
    (["shampoo", "for dry hair"], "refine", ("Beauty", "Hair Care"), {"hair_type": ["dry"]}, "shampoo"),
    (["my daughter starts uni soon and needs a decent backpack for her laptop, nothing crazy expensive"],
     "search", ("Bags", "Backpacks"), {}, None),  # "backpack" is what she needs, not the pastime backpacking
])
def test_follow_ups_as_shoppers_say_them(guide, turns, kind, category, attributes, words):
    assistant, _, products, _ = guide
    conv = assistant.start("U0010")
    for t in turns:
        r = assistant.reply(conv, t)
    assert r.kind == kind and {products[c.id].category for c in r.cards} == {category}
    assert r.constraints["attributes"] == attributes and r.constraints["sort"] is None
    if words:
        assert r.constraints["category_words"] == words and "hair hair" not in r.text


def test_a_superlative_said_alone_is_a_pick_among_the_cards(guide):
    assistant, _, products, _ = guide
    conv = assistant.start("U0011")
    shown = assistant.reply(conv, "shampoo").cards
    r = assistant.reply(conv, "largest size pls")
    sizes = {c.id: float(products[c.id].attributes["size"].rstrip("ml")) for c in shown}
    assert r.kind == "question" and sizes[r.cards[0].id] == max(sizes.values())


@pytest.mark.parametrize("message", [
    "something for my dad, he travels for work every week and lugs his laptop, notebooks and a change of clothes",
    "老公经常出差，每次都要带电脑和换洗衣服",
])
def test_what_a_person_carries_is_the_trouble_not_the_need(guide, message):
    assistant, _, products, _ = guide
    r = assistant.reply(assistant.start("U0012"), message)
    assert r.kind == "search" and {products[c.id].category for c in r.cards} == {("Bags", "Backpacks")}


@pytest.mark.parametrize("turns, category, attributes, exclude", [
    (["最近开始跑步了 鞋子推荐下"], ("Shoes", "Running"), {}, {}),          # the shoes running asks for
    (["积木", "适合三岁小孩玩的有吗"], ("Toys", "Building Blocks"), {}, {}),  # who the blocks are for: same need
    (["冬天盖的被子 双人", "羊毛的太贵了 有没有别的材质"], ("Home", "Bedding"), {"size": ["Double"]},
     {"material": ["merino wool"]}),
])
def test_chinese_follow_ups_keep_the_need(guide, turns, category, attributes, exclude):
    assistant, _, products, _ = guide
    conv = assistant.start("U0013")
    for t in turns:
        r = assistant.reply(conv, t)
    assert r.kind in ("search", "refine") and {products[c.id].category for c in r.cards} == {category}
    assert r.constraints["attributes"] == attributes and r.constraints["exclude_attributes"] == exclude


def test_a_size_asked_after_a_question_is_asked_of_that_product(guide):
    assistant, _, products, _ = guide
    conv = assistant.start("U0014")
    assistant.reply(conv, "跑鞋")
    asked = assistant.reply(conv, "第二个是什么材质的？")
    r = assistant.reply(conv, "有43码吗")
    assert r.kind == "question" and r.cards[0].id == asked.cards[0].id
    assert products[r.cards[0].id].attributes["size"] in r.text
    fresh = assistant.start("U0015")
    assistant.reply(fresh, "跑鞋")
    assert assistant.reply(fresh, "有43码吗").kind == "refine"  # after a search: the 43s


@pytest.mark.parametrize("kind, question, key, way", [
    ("shampoo for dry hair", "biggest bottle pls", "size", max),   # "bottle" names no value of shampoo
    ("insulated bottle", "which one is the largest?", "size", max),  # Small < Medium < Large
    ("duvet cover set", "which one's the biggest", "size", max),     # Single < Double < King, not the pieces
    ("building blocks", "which has the most pieces", "pieces", max),
])
def test_a_superlative_is_answered_with_the_measure_it_picked_by_and_nothing_else(guide, kind, question, key, way):
    from daogou.assist.answers import quantity
    assistant, _, products, _ = guide
    conv = assistant.start("U0016")
    shown = assistant.reply(conv, kind).cards
    measure = {c.id: quantity(products[c.id].attributes.get(key)) for c in shown}
    measure = {i: q for i, q in measure.items() if q is not None}
    assert len(set(measure.values())) >= 2
    r = assistant.reply(conv, question)
    assert r.kind == "question" and measure[r.cards[0].id] == way(measure.values())
    assert [a["key"] for a in r.answer] == [key] and products[r.cards[0].id].attributes[key] in r.text


def test_a_value_the_texts_only_suggest_is_not_asked_of_another_kind():
    from daogou.assist.answers import asked
    v = Vocabulary()  # "bottle" mined from kitchen titles as material=stainless steel, as a store's texts can
    v.attributes.update({"bottle": {("material", "stainless steel")}, "leather": {("material", "leather")}})
    v.mined.add(("attribute", "bottle"))
    v.attribute_categories.update({("material", "stainless steel"): {"Home > Kitchen"},
                                   ("material", "leather"): {"Shoes > Hiking"}})
    assert asked("biggest bottle pls", v, ["Beauty > Hair Care"])[1] == []
    assert asked("biggest bottle pls", v, ["Home > Kitchen"])[1] == [("material", "stainless steel")]
    # a value's own name is asked of anything: "No — its material is …, not leather"
    assert asked("is it leather?", v, ["Beauty > Hair Care"])[1] == [("material", "leather")]


@pytest.mark.parametrize("message, words", [
    ("shampoo for dry hair", "shampoo for dry hair"),           # never "dry shampoo", another product
    ("moisturiser for oily skin", "moisturiser for oily skin"),
    ("waterproof hiking boots size 42", "waterproof hiking boots in size 42"),
])
def test_the_need_is_said_in_the_shoppers_order(guide, message, words):
    assistant, _, _, _ = guide
    r = assistant.reply(assistant.start("U0017"), message)
    assert f"picks for {words}" in r.text
    if "dry hair" in message:  # and the cards' reasons say what the value describes
        assert all(any("for dry hair" in w for w in c.why) for c in r.cards if c.why)


def test_a_chinese_card_reason_names_a_yes_no_value_in_chinese(guide):
    assistant, _, _, _ = guide
    r = assistant.reply(assistant.start("U0018", "zh"), "防水的登山鞋")
    reasons = [w for c in r.cards for w in c.why]
    assert reasons and all("yes" not in w for w in reasons) and any("防水" in w for w in reasons)


def test_how_big_of_another_property_asks_about_that_property():
    from daogou.assist.answers import asked
    v = Vocabulary()
    v.key_values.update({"storage": {"128GB"}, "size": {'6.1"'}})
    assert asked("第三个存储多大", v)[0] == ["storage"]
    assert sorted(asked("what size is it and how much storage", v)[0]) == ["size", "storage"]


@pytest.mark.parametrize("kind, move, key, way", [
    ("backpack", "got anything bigger?", "capacity", "more"),
    ("insulated bottle", "有没有大一点的", "size", "more"),          # Small < Medium < Large
    ("headphones", "any with longer battery life?", "battery", "more"),
    ("yoga mat", "smaller ones pls", "size", "less"),
])
def test_more_or_less_of_a_measure_than_the_cards_on_show(guide, kind, move, key, way):
    from daogou.assist.answers import quantity
    assistant, _, products, _ = guide
    conv = assistant.start("U0019")
    shown = assistant.reply(conv, kind).cards
    have = sorted(q for c in shown if (q := quantity(products[c.id].attributes.get(key))) is not None)
    middle = have[len(have) // 2]
    r = assistant.reply(conv, move)
    assert r.kind == "refine" and r.cards
    got = [quantity(products[c.id].attributes.get(key)) for c in r.cards]
    kind_values = [q for p in products.values() if p.category == products[shown[0].id].category
                   and (q := quantity(p.attributes.get(key))) is not None]
    if (max if way == "more" else min)(kind_values) == middle:  # the cards reach the utmost already: said so
        assert all(q == middle for q in got[:1]) and str(products[r.cards[0].id].attributes[key]) in r.text
    else:
        assert all(q is not None and (q > middle if way == "more" else q < middle) for q in got[:3])


@pytest.mark.parametrize("kind, first, then, key", [
    ("连衣裙", "第一个是长袖还是短袖", "裙长呢", "length"),          # 裙 of 裙长 names no new dresses
    ("face cream", "is the second one ok for sensitive skin", "what's in it", "material"),
    ("t-shirt", "is the 3rd one slim or regular fit", None, "fit"),  # "slim" is a fit here, not a case's feature
])
def test_questions_as_shoppers_ask_them(guide, kind, first, then, key):
    assistant, _, products, _ = guide
    conv = assistant.start("U0020", "zh" if kind == "连衣裙" else "en")
    assistant.reply(conv, kind)
    r = assistant.reply(conv, first)
    if then is not None:
        r = assistant.reply(conv, then)
    assert r.kind == "question" and [a["key"] for a in r.answer] == [key]


@pytest.mark.parametrize("kind, turns, key", [
    ("running shoes", ["show me a different brand"], "brand"),
    ("跑鞋", ["换个品牌看看"], "brand"),
    ("backpack", ["other colours?"], "color"),
    ("瑜伽垫", ["第二个是什么材质", "有别的颜色吗"], "color"),  # of the card asked about
])
def test_another_brand_or_colour_than_the_card_in_focus(guide, kind, turns, key):
    assistant, _, products, _ = guide
    conv = assistant.start("U0021")
    r = assistant.reply(conv, kind)
    for t in turns:
        focus = products[r.cards[0].id]
        r = assistant.reply(conv, t)
    assert r.kind == "refine" and r.cards and focus.id not in [c.id for c in r.cards]
    if key == "brand":
        assert all(products[c.id].brand != focus.brand for c in r.cards)
    elif focus.attributes.get("color"):
        assert all(products[c.id].attributes.get("color") != focus.attributes["color"] for c in r.cards)
    assert {products[c.id].category for c in r.cards} == {focus.category}


def test_a_kind_word_no_title_uses_ranks_by_its_synonym_the_titles_use(guide):
    assistant, _, products, _ = guide
    r = assistant.reply(assistant.start("U0022", "zh"), "洗面奶")  # the titles say 洁面乳
    assert all("洁面乳" in products[c.id].title or "Cleanser" in products[c.id].title for c in r.cards[:2])


@pytest.mark.parametrize("ask, titled", [("in-ear ones?", ("Earbuds", "无线耳机")), ("有没有入耳式的", ("Earbuds", "无线耳机")),
                                         ("要头戴的", ("Over-Ear", "头戴式"))])
def test_the_form_of_headphones_asked_ranks_that_form_first(guide, ask, titled):
    assistant, _, products, _ = guide
    conv = assistant.start("U0023")
    assistant.reply(conv, "headphones")
    r = assistant.reply(conv, ask)
    assert r.kind == "refine" and r.cards
    assert all(any(t in products[c.id].title for t in titled) for c in r.cards[:3])


def _told_apart(cards, products, key):
    """The first shown card whose ``key`` value no other shown card has, with that value (None if none)."""
    values = [products[c.id].attributes.get(key) for c in cards]
    return next(((i, v) for i, v in enumerate(values) if v and values.count(v) == 1), (None, None))


@pytest.mark.parametrize("say, kind, key", [
    ("the {en} ones, what are they made of?", "question", "material"),
    ("the {en} one look nice, tell me more", "detail", None),
    ("add the {en} one to my cart", "cart", None),
    ("{zh}的那个加购物车", "cart", None),
    ("{zh}那双是什么材质", "question", "material"),
    ("那个{zh}的是什么材质", "question", "material"),
    ("tell me about the {en} running shoes", "detail", None),
    ("{zh}款怎么样", "detail", None),
])
def test_a_card_pointed_at_by_what_it_has(guide, say, kind, key):
    from daogou.catalog.demo_vocab import COLOURS
    assistant, _, products, _ = guide
    conv = assistant.start("U0024")
    cards = assistant.reply(conv, "running shoes").cards
    at, colour = _told_apart(cards, products, "color")
    if at is None:
        pytest.skip("no shown card has a colour of its own")
    r = assistant.reply(conv, say.format(en=colour, zh=COLOURS[colour][0]))
    assert r.kind == kind and [c.id for c in r.cards] == [cards[at].id]
    if key:
        assert [a["key"] for a in r.answer] == [key]  # the colour that points is not asked about


def test_the_ones_of_a_value_no_card_has_or_asked_for_alone_are_a_refinement(guide):
    assistant, _, products, _ = guide
    conv = assistant.start("U0025")
    cards = assistant.reply(conv, "backpack").cards
    shown = {products[c.id].attributes.get("color") for c in cards}
    missing = next(c for c in ("purple", "pink", "orange", "yellow", "green", "red", "blue", "white", "black", "grey")
                   if c not in shown)
    r = assistant.reply(conv, f"the {missing} one")
    assert r.kind == "refine" and r.constraints["attributes"]["color"] == [missing]
    present = next(iter(shown - {None}))
    conv = assistant.start("U0025")
    assistant.reply(conv, "backpack")
    r = assistant.reply(conv, f"the {present} ones please")
    assert r.kind == "refine" and r.constraints["attributes"]["color"] == [present]


def test_two_cards_pointed_at_are_compared_in_the_order_said(guide):
    assistant, _, products, _ = guide
    conv = assistant.start("U0026")
    cards = assistant.reply(conv, "chargers").cards
    power = {}
    for c in cards:
        power.setdefault(products[c.id].attributes.get("power"), c.id)
    said = [p for p in power if p][:2]
    if len(said) < 2:
        pytest.skip("fewer than two powers on show")
    r = assistant.reply(conv, f"whats the difference between the {said[1].lower()} one and the {said[0].lower()} one")
    assert r.kind == "compare" and [c.id for c in r.cards] == [power[said[1]], power[said[0]]]


@pytest.mark.parametrize("turns, category, attributes", [
    (["yoga mat", "chargers", "back to the mats pls, the cork ones"], "Sports > Yoga", {"material": ["cork"]}),
    (["running shoes", "socks", "can we go back to the shoes? under 500"], "Shoes > Running", {}),
    (["洗发水", "看看充电器", "还是看刚才的吧"], "Beauty > Hair Care", {}),
])
def test_going_back_to_an_earlier_need(guide, turns, category, attributes):
    assistant, *_ = guide
    conv = assistant.start("U0027")
    for t in turns:
        r = assistant.reply(conv, t)
    assert r.constraints["categories"] == [category] and r.constraints.get("attributes", {}) == attributes
    assert conv.turns[-2].text == turns[-1]  # the conversation keeps what the shopper typed


def test_how_long_asks_no_length_and_is_it_long_of_a_dress_asks_its_length(guide):
    assistant, _, products, _ = guide
    conv = assistant.start("U0028")
    assistant.reply(conv, "headphones")
    r = assistant.reply(conv, "how long does the battery last on the first one?")
    assert [a["key"] for a in r.answer] == ["battery"]
    cards = assistant.reply(conv, "dresses").cards
    r = assistant.reply(conv, "is the first one long?")
    assert [a["key"] for a in r.answer] == ["length"]
    assert r.answer[0]["value"] == products[cards[0].id].attributes.get("length")


@pytest.mark.parametrize("kind, message, seen", [
    ("running shoes", "not a fan of the first one, others?", "first"),
    ("双肩包", "第一个不喜欢 换一个", "first"),
    ("hiking boots", "next page", "all"),
    ("headphones", "dont like any of these, show me different ones", "all"),
])
def test_cards_turned_down_or_paged_past_give_other_products_of_the_need(guide, kind, message, seen):
    assistant, _, products, _ = guide
    conv = assistant.start("U0029")
    before = assistant.reply(conv, kind)
    r = assistant.reply(conv, message)
    shown = {c.id for c in (before.cards[:1] if seen == "first" else before.cards)}
    assert r.kind == "refine" and r.cards and not shown & {c.id for c in r.cards}
    assert {products[c.id].category for c in r.cards} <= {products[c.id].category for c in before.cards}


def test_taking_two_of_a_card_and_pointing_at_words_the_card_shows(guide):
    assistant, _, products, _ = guide
    conv = assistant.start("U0030")
    cards = assistant.reply(conv, "socks").cards
    r = assistant.reply(conv, "i'll take two of the first")
    assert r.kind == "cart" and r.cards[0].id == cards[0].id
    cards = assistant.reply(conv, "yoga mat").cards
    rubber = [i for i, c in enumerate(cards) if "rubber" in products[c.id].attributes.get("material", "")]
    cork = [i for i, c in enumerate(cards) if products[c.id].attributes.get("material") == "cork"]
    if not (rubber and cork):
        pytest.skip("no rubber and cork mats on show together")
    r = assistant.reply(conv, "the cork one vs the rubber one")  # "rubber": a word of the card's "natural rubber"
    assert r.kind == "compare" and [c.id for c in r.cards] == [cards[cork[0]].id, cards[rubber[0]].id]


def test_more_of_a_measure_than_a_card_named(guide):
    from daogou.assist.answers import quantity
    assistant, _, products, _ = guide
    conv = assistant.start("U0031")
    cards = assistant.reply(conv, "chargers").cards
    r = assistant.reply(conv, "the first one's too slow, got anything faster?")
    median = sorted(quantity(products[c.id].attributes.get("power")) or 0 for c in cards)[len(cards) // 2]
    category = products[cards[0].id].category
    if not any((quantity(p.attributes.get("power")) or 0) > median for p in products.values() if p.category == category):
        median -= 1e-9  # the cards already reach the utmost: those that have it are shown (and it is said)
    assert r.kind == "refine" and all((quantity(products[c.id].attributes.get("power")) or 0) > median
                                      for c in r.cards[:3])


@pytest.mark.parametrize("message, said", [("headphones without noise cancelling", "without noise cancelling"),
                                           ("不带降噪的耳机", "不带降噪")])
def test_a_feature_not_wanted_shows_those_without_it_and_says_so(guide, message, said):
    assistant, _, products, _ = guide
    r = assistant.reply(assistant.start("U0032"), message)
    assert r.constraints["attributes"] == {"noise_cancelling": ["no"]} and said in r.text
    assert all(products[c.id].attributes.get("noise_cancelling") == "no" for c in r.cards[:3])
    badge = "without noise cancelling, as you asked" if said.isascii() else "无主动降噪，符合你的要求"
    assert badge in r.cards[0].why  # never "no, as you asked"
