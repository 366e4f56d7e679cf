"""The template backend: deterministic, grounded English and Chinese copy, explanations, comparisons and answers."""

from __future__ import annotations

import re

import pytest

from daogou.catalog.demo import DemoConfig, generate_demo
from daogou.catalog.models import Product
from daogou.generate import (Checker, Lexicon, LLMConfig, Reasons, Writer, answer_task, compare_task, copy_task,
                             explain_task, get_backend)
from daogou.generate.template import write

CONDITIONER = Product(
    id="P1", title="Folliq Tea Tree Conditioner 750ml", description="This listing is for size 750ml. For all hair.",
    category=("Beauty", "Hair Care"), brand="Folliq", price=259.0, currency="CNY",
    attributes={"hair_type": "all", "material": "tea tree", "size": "750ml"}, language="en",
    translations={"zh": {"title": "Folliq 茶树护发素 750ml", "description": "规格：750ml。适合所有发质。",
                         "category": "美妆 > 洗护发"}})
HEADPHONES = Product(
    id="P2", title="声沐 灰色 头戴式耳机", description="采用铝合金材质。声沐品质之选。支持主动降噪。",
    category=("Electronics", "Headphones"), brand="Shengmu", price=969.0, currency="CNY",
    attributes={"battery": "40h", "color": "grey", "material": "aluminium", "noise_cancelling": "yes"},
    language="zh", translations={"en": {"title": "Shengmu Grey Over-Ear Headphones",
                                        "description": "Made from aluminium. Active noise cancelling: yes.",
                                        "category": "Electronics > Headphones"}})
BACKPACK = Product(
    id="P3", title="Voyago Black Canvas Laptop Backpack, 15L, Large", description="Size: Large.",
    category=("Bags", "Backpacks"), brand="Voyago", price=119.0, currency="CNY", in_stock=False,
    attributes={"capacity": "15L", "color": "black", "material": "canvas", "size": "Large"}, language="en",
    translations={"zh": {"title": "Voyago 黑色帆布电脑双肩包 15L 大号", "description": "尺码：大号。"}})


def cjk_share(text: str) -> float:
    letters = re.findall(r"[A-Za-z\u3400-\u9fff]", text)
    return sum(1 for c in letters if "\u3400" <= c <= "\u9fff") / len(letters)


@pytest.fixture(scope="module")
def writer():
    lexicon = Lexicon.from_products([CONDITIONER, HEADPHONES, BACKPACK])
    return Writer(get_backend(LLMConfig(backend="template")), lexicon)


def test_copy_english_styles_and_tones(writer):
    short = writer.copy([CONDITIONER])[0]
    assert short.text == ("Folliq Tea Tree Conditioner 750ml. Made of tea tree; size 750ml; hair type: all. "
                          "Priced at ¥259.")
    assert (short.backend, short.fallback, short.attempts) == ("template", False, 0)
    friendly = writer.copy([CONDITIONER], tone="friendly")[0].text
    assert friendly.startswith("Say hello to the Folliq") and "Yours for just ¥259." in friendly
    long = writer.copy([CONDITIONER], style="long", tone="premium")[0].text
    assert "For all hair." in long and long.endswith("Quality that shows in the details.")
    bullets = writer.copy([BACKPACK], style="bullets")[0].text.splitlines()
    assert bullets[0] == BACKPACK.title
    assert "• Price: ¥119" in bullets and "• Out of stock" in bullets and "• Capacity: 15L" in bullets


def test_copy_chinese_reads_chinese(writer):
    short = writer.copy([CONDITIONER], lang="zh")[0].text
    assert short == "Folliq 茶树护发素 750ml。茶树材质，尺码750ml，适合所有发质。售价259元。"
    zh = writer.copy([HEADPHONES], lang="zh", style="long", tone="friendly")[0].text
    assert zh.startswith("推荐这款声沐 灰色 头戴式耳机！") and "灰色" in zh and "铝合金材质" in zh
    assert "到手价969元" in zh and cjk_share(zh) > 0.6
    bullets = writer.copy([BACKPACK], lang="zh", style="bullets")[0].text
    assert "• 颜色：黑色" in bullets and "• 暂时缺货" in bullets and "• 价格：119元" in bullets
    en = writer.copy([HEADPHONES], lang="en")[0].text  # a Chinese product, written in English from its translation
    assert en.startswith("Shengmu Grey Over-Ear Headphones.") and cjk_share(en) == 0


def test_template_is_deterministic(writer):
    tasks = [copy_task(p, lang, style) for p in (CONDITIONER, HEADPHONES) for lang in ("en", "zh")
             for style in ("short", "long", "bullets")]
    assert [write(t) for t in tasks] == [write(t) for t in tasks]


def test_explanation_in_both_languages(writer):
    reasons = Reasons(viewed=(CONDITIONER,), query="headphones", budget=1000.0)
    en = writer.explain(HEADPHONES, reasons).text
    assert en.startswith('Because you looked at Folliq Tea Tree Conditioner 750ml and asked for "headphones" under '
                         '¥1,000: Shengmu Grey Over-Ear Headphones — it costs ¥969, within your budget')
    zh = writer.explain(HEADPHONES, reasons, lang="zh").text
    assert zh.startswith("因为您浏览过Folliq 茶树护发素 750ml，想找「headphones」（预算1000元以内），为您推荐：声沐")
    assert "在预算之内" in zh
    over = writer.explain(HEADPHONES, Reasons(budget=500.0)).text
    assert "set a budget of ¥500" in over and "above your budget" in over
    assert writer.explain(HEADPHONES, Reasons(), lang="zh").text.startswith("为您推荐：")


def test_comparison_labels_each_product(writer):
    text = writer.compare([CONDITIONER, HEADPHONES, BACKPACK]).text
    lines = text.splitlines()
    assert lines[0] == "Comparing 3 products:"
    assert lines[1].startswith("[A] Folliq Tea Tree Conditioner 750ml — ¥259")
    assert lines[3].startswith("[C] Voyago") and "out of stock" in lines[3]
    assert "Lowest price: [C] at ¥119." in lines
    assert "Material: [A] tea tree, [B] aluminium, [C] canvas." in lines
    zh = writer.compare([CONDITIONER, BACKPACK], lang="zh").text
    assert zh.startswith("对比2款商品：") and "价格最低：[B]（119元）。" in zh and "材质：[A] 茶树，[B] 帆布。" in zh


@pytest.mark.parametrize("question,lang,expected", [
    ("How much is it?", "en", "It costs ¥969."),
    ("What is it made of?", "en", "Material: aluminium."),
    ("Is it noise cancelling?", "en", "Noise cancelling: yes."),
    ("Is it in stock?", "en", "It is in stock."),
    ("Does it fold flat?", "en",
     "The listing does not say; what it does list: Color: grey; Material: aluminium; Battery: 40h; Noise cancelling: "
     "yes. Please ask the seller."),
    ("多少钱？", "zh", "售价969元。"),
    ("续航多久？", "zh", "续航：40小时。"),
    ("是什么颜色的？", "zh", "颜色：灰色。"),
    ("能折叠吗？", "zh", "商品信息中没有提到这一点；已标明的有：颜色：灰色，材质：铝合金，续航：40小时，支持主动降噪。建议咨询商家。"),
])
def test_answers_from_facts(writer, question, lang, expected):
    assert writer.answer(HEADPHONES, question, lang).text == expected


def test_answer_quotes_the_description_when_no_attribute_fits(writer):
    toy = Product(id="T1", title="Barbie Sisters Wave Ride", brand="Barbie", price=22.9, currency="GBP",
                  description="This jet ski comes with Stacie doll and really floats. Ages 3 and older.")
    assert writer.answer(toy, "Does the jet ski float in water?").text == \
        "From the listing: This jet ski comes with Stacie doll and really floats."


def test_template_output_is_grounded_across_the_demo_catalog():
    products = generate_demo(DemoConfig(n_products=240, n_shoppers=0)).products
    writer = Writer(get_backend(LLMConfig(backend="template")), Lexicon.from_products(products))
    checker = writer.checker
    tasks = [copy_task(p, lang, style, tone) for p in products for lang in ("en", "zh")
             for style, tone in (("short", "neutral"), ("long", "playful"), ("bullets", "premium"))]
    tasks += [compare_task(products[i:i + 1 + i % 4], lang) for i in range(0, 200, 5) for lang in ("en", "zh")
              if 2 <= len(products[i:i + 1 + i % 4])]
    tasks += [answer_task(p, q, lang) for p in products[:60]
              for q, lang in (("what colour?", "en"), ("什么材质？", "zh"))]
    tasks += [explain_task(p, Reasons(viewed=(products[0],), query="gift", budget=300.0), lang)
              for p in products[:60] for lang in ("en", "zh")]
    for task, result in zip(tasks, writer.run(tasks)):
        subjects, context = task.truths()
        assert checker.check(result.text, subjects, context) == [], (task.name, result.text)
        assert result.text.strip()
        if task.lang == "zh":
            assert cjk_share(result.text) > 0.3, result.text
    assert writer.stats.template_repairs == 0 and writer.stats.ungrounded_shown == 0


def test_template_checker_sees_no_claims_in_plain_copy():
    assert Checker().check("A lovely thing for every day.", []) == []
