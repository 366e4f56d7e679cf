"""The gate reads what sentences say: each bad reply quoted in the wave's issue is rejected, good ones pass."""

from __future__ import annotations

import pytest

from daogou.catalog.models import Product
from daogou.generate.grounding import Checker, Lexicon, truth_of

SHOE = Product("s1", "Korvo Mesh Running Shoes, Size 42", description="Light mesh upper. Vibram outsole.",
               category=("Shoes", "Running"), brand="Korvo", price=79.5, currency="USD",
               attributes={"material": "mesh", "size": "42", "color": "blue"})
PHONES = Product("h1", "Sonique Wireless Earbuds", description="Up to 30h of battery life.",
                 category=("Electronics", "Headphones"), brand="Sonique", price=399, currency="CNY",
                 attributes={"noise_cancelling": "yes", "battery": "30h", "color": "black"})
DRIPPER = Product("d1", "Kettly Ceramic Coffee Dripper", description="Fits a standard #2 paper filter.",
                  category=("Home", "Kitchen"), brand="Kettly", price=129, currency="CNY",
                  attributes={"material": "ceramic", "color": "white"})
BACKPACK = Product("b1", "Roamy Nylon Backpack 25L", description="A 25L daypack.", category=("Bags", "Backpacks"),
                   brand="Roamy", price=199, currency="CNY", attributes={"material": "nylon", "capacity": "25L"})
BOOTS = Product("k1", "Trailcrest Hiking Boots", category=("Shoes", "Hiking"), brand="Trailcrest", price=899,
                currency="CNY", attributes={"waterproof": "no", "material": "suede"})


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker(Lexicon.from_products([SHOE, PHONES, DRIPPER, BACKPACK, BOOTS]))


@pytest.mark.parametrize("product, text, kinds", [
    (SHOE, "The shopper was impressed by the quality of the Korvo Shoe Shredding Shocker and requested a full range "
           "of Korvo Shoes to ensure they can provide their customers with the best value.",
     {"third_person", "story", "invented_name"}),
    (PHONES, "The product is not noise cancelling. The description of the product includes a battery, and it does "
             "have active noise cancelling.", {"contradiction", "ungiven"}),
    (SHOE, 'The answer to the question is: "Korvo Mesh Running Shoes, Size 42"', {"meta"}),
    (BACKPACK, "The shopper is recommending a pack of 20 backpacks for the trip.", {"third_person", "count"}),
    (DRIPPER, "Safety: **Flammable**\nIngredients: **Water**", {"ungiven"}),
    (SHOE, "The price of $79.50 includes both the shoe itself and accessories like a Vibram sole.", {"ungiven"}),
    (DRIPPER, "This dripper includes a standard #2 filter.", {"ungiven"}),
    (DRIPPER, "Here's a rewritten version of the product listing with only facts that appear in the data:",
     {"meta"}),
    (BOOTS, "These boots are fully waterproof for rainy hikes.", {"contradiction"}),
    (BOOTS, "这款登山鞋防水，适合雨天。", {"contradiction"}),
    (PHONES, "这款耳机不支持主动降噪。", {"contradiction"}),
    (BACKPACK, "该顾客非常满意，决定购买。", {"third_person", "story"}),
    # drafts of the default small model on the replies benchmark that an earlier gate let through
    (BACKPACK, "The product boasts an impressive 25L size, offering customers a wide range of options.",
     {"third_person"}),
    (SHOE, "This shoe is a game-changer. Write it again using only values that appear in the data.", {"meta"}),
    (SHOE, "These are Korvo toshoyashin runners, available for purchase at the tamyamiya shop in Tokyo.",
     {"invented_word", "ungiven"}),
    (DRIPPER, "The stock market closed higher on Friday after a volatile week of trading.", {"unrelated"}),
    (DRIPPER, "股市周五收高，投资者情绪回暖。", {"unrelated"}),
])
def test_bad_replies_are_rejected(checker, product, text, kinds):
    found = {v.kind for v in checker.check(text, [truth_of(product)])}
    assert kinds <= found, found


@pytest.mark.parametrize("product, text", [
    (SHOE, "Light mesh running shoes from Korvo, in blue, size 42."),
    (PHONES, "It has active noise cancelling and up to 30h of battery."),
    (PHONES, "这款耳机支持主动降噪，续航30小时。"),
    (BACKPACK, "A 25L nylon backpack for everyday carry."),
    (BOOTS, "Suede hiking boots; waterproof: no."),
    (DRIPPER, "A white ceramic dripper that fits a standard #2 paper filter."),
    (SHOE, "You asked for running shoes: these Korvo Mesh Running Shoes are light for daily runs."),
    (DRIPPER, "A good pick for a slow morning brew."),
    (BOOTS, "Trailcrest hiking boots in suede. A solid choice for dry trails."),
])
def test_good_replies_pass(checker, product, text):
    assert checker.check(text, [truth_of(product)]) == []
