"""What the assistant says around the products, in English and Chinese. Pure string building; every product value
is passed through as data (the page escapes it), never formatted into markup."""

from __future__ import annotations

import re

from daogou.assist.answers import key_name
from daogou.generate.facts import CURRENCY_SIGNS, format_price

_T = {
    "en": {
        "found": "Here are {n} picks{cons}.",
        "found_need": "Here are {n} picks for {need}{cons}.",
        "order_popular": "Best sellers first.", "order_price_asc": "Cheapest first.",
        "later": "Next: {x}? Just say the word.",
        "having": "{n} of these are {what}: {names}.", "having_one": "Of these, only {names} is {what}.",
        "having_none": "None of these is listed as {what}.", "having_all": "All {n} of these are {what}.",
        "none_with": "Nothing here is exactly {what}; these come closest. ",
        "order_price_desc": "Most expensive first.",
        "relaxed": "Nothing matches all of that ({need}{cons}), so I left out the {what}.",
        "all_that": "all of that", "relax_brand": "brand", "relax_price": "budget", "relax_category": "category", "and": " and ",
        "converted": "Prices here are in {store}; {said} ≈ {conv}.",
        "none_need": "Nothing matches {need}. Try removing a condition.",
        "missing": "Sorry, I couldn't find “{what}” in this store: nothing here matches it. Here is what it sells:",
        "missing_any": "Sorry, nothing in this store matches that. Here is what it sells:",
        "found_personal": "Here are {n} picks for you{cons}, from what you browsed and bought.",
        "clarify": "Happy to help! Who is it for, and roughly what budget? For example: “for my sister, under {p}”.",
        "clarify_unserved": "I'm afraid this store has nothing for “{x}”. What else do they enjoy, and roughly what "
                            "budget? For example: “she likes cooking, under {p}”.",
        "greet": "Hi! Tell me what you're looking for — e.g. “red running shoes under {p}” or “耳机 不要 {b}”.",
        "reset": "OK, starting over. What are you looking for?",
        "detail": "About {title}.",
        "detail_copy": "Here's more on it:",
        "of_these": "Of these, {title} — ",
        "measure_none_more": "Nothing of this kind here goes beyond {value} of {what}; these have {value}. ",
        "measure_none_less": "Nothing of this kind here goes below {value} of {what}; these have {value}. ",
        "pick_cheapest": "Of these, the cheapest is {title}, at {p}.",
        "added": "Added {title} ({p}) to your cart.",
        "like": "Here are {n} products like {title}.",
        "like_cheaper": "Here are {n} products like {title}, cheaper than it.",
        "like_pricier": "Here are {n} products like {title}, a step up in price.",
        "like_none": "I couldn't find other products like {title} within what you asked for.",
        "none_mention": "None of these listings mention “{what}”, so I can't tell. You could ask the seller.",
        "pick_priciest": "Of these, the most expensive is {title}, at {p}.",
        "none_state": "None of these listings state {what}, so I can't tell which one it is. You could ask the seller.",
        "missing_here": "None of these products say “{what}”, so I kept what you asked for before. ",
        "thanks": "You're welcome! Come back any time, or tell me if you'd like to see anything else.",
        "service": "I can't see the store's returns, shipping or payment terms; the store's help page or its "
                   "customer service has them. I can find, explain and compare products for you.",
        "no_focus": "Which product do you mean? Say “the first one”, “the second one”…",
        "under": "under {p}", "over": "over {p}", "between": "{a}–{b}", "not": "not {x}",
        "sep": ", ", "pre_cons": ", ",
        "why_attr": "{v}, as you asked", "why_budget": "within your budget", "why_brand": "{b}, a brand you like",
        "why_personal": "like {t}, which you looked at", "why_bought": "like {t}, which you bought",
        "why_match": "closest match to your words",
        "why_cheaper": "cheaper than before", "why_pricier": "a step up in price",
        "chip_cheaper": "Cheaper", "chip_pricier": "More premium", "chip_compare": "Compare the first two",
        "chip_second": "Tell me about the second one", "chip_reset": "Start over", "chip_in": "In {v}",
        "chip_not": "Not {b}", "chip_under": "Under {p}",
    },
    "zh": {
        "found": "为你找到 {n} 款商品{cons}。",
        "found_need": "为你找到 {n} 款{need}{cons}。",
        "order_popular": "按销量从高到低排列。", "order_price_asc": "按价格从低到高排列。",
        "later": "要接着看{x}吗？",
        "having": "这几款里有 {n} 款是{what}的：{names}。", "having_one": "这几款里只有{names}是{what}的。",
        "having_none": "这几款都没有标明{what}。", "having_all": "这 {n} 款都是{what}的。",
        "none_with": "没有完全符合「{what}」的商品，以下是最接近的。",
        "order_price_desc": "按价格从高到低排列。",
        "relaxed": "没有同时满足（{need}{cons}）的商品，所以放宽了{what}。",
        "all_that": "这些条件", "relax_brand": "品牌", "relax_price": "预算", "relax_category": "品类", "and": "和",
        "converted": "本店以{store}计价，{said} ≈ {conv}。",
        "none_need": "没有符合（{need}）的商品。试试去掉一个条件。",
        "missing": "抱歉，本店没有“{what}”，找不到相符的商品。本店有这些：",
        "missing_any": "抱歉，本店没有相符的商品。本店有这些：",
        "found_personal": "根据你的浏览和购买记录，为你挑了 {n} 款{cons}。",
        "clarify": "好的！是送给谁的？预算大概多少？比如：“送妹妹，{p}以内”。",
        "clarify_unserved": "抱歉，本店暂时没有「{x}」相关的商品。TA还有什么别的爱好？预算大概多少？比如：“喜欢做饭，{p}以内”。",
        "greet": "你好！告诉我你想买什么，比如“{p}以内的红色跑鞋”或“耳机 不要 {b}”。",
        "reset": "好的，我们重新开始。你想找什么？",
        "detail": "关于 {title}。",
        "detail_copy": "这款的详情：",
        "of_these": "这几款里是 {title}——",
        "measure_none_more": "这类商品的{what}最高就是{value}，以下都是{value}的。",
        "measure_none_less": "这类商品的{what}最低就是{value}，以下都是{value}的。",
        "pick_cheapest": "这几款里最便宜的是 {title}，{p}。",
        "added": "已把 {title}（{p}）加入购物车。",
        "like": "为你找到 {n} 款和 {title} 类似的商品。",
        "like_cheaper": "为你找到 {n} 款和 {title} 类似、比它便宜的商品。",
        "like_pricier": "为你找到 {n} 款和 {title} 类似、价位更高的商品。",
        "like_none": "在你的要求范围内，没有找到和 {title} 类似的其他商品。",
        "none_mention": "这几款的商品信息都没有提到“{what}”，没法判断，可以咨询商家。",
        "pick_priciest": "这几款里最贵的是 {title}，{p}。",
        "none_state": "这几款的商品信息都没有写{what}，没法比较，可以咨询商家。",
        "missing_here": "这里的商品都没有提到“{what}”，先按你之前的要求给你看。",
        "thanks": "不客气！随时回来，还想看点别的就告诉我。",
        "service": "退货、发货和付款这些店铺规定我这里查不到，请看店铺的帮助页面或联系客服。我可以帮你找商品、介绍和比较商品。",
        "no_focus": "你指的是哪一款？可以说“第一个”、“第二个”……",
        "under": "{p}以内", "over": "{p}以上", "between": "{a}–{b}", "not": "不要{x}",
        "sep": "，", "pre_cons": "，",
        "why_attr": "{v}，符合你的要求", "why_budget": "在你的预算内", "why_brand": "你喜欢的品牌：{b}",
        "why_personal": "和你看过的{t}相似", "why_bought": "和你买过的{t}同类", "why_match": "最符合你的描述",
        "why_cheaper": "比刚才的更便宜", "why_pricier": "价位更高一档",
        "chip_cheaper": "便宜一点", "chip_pricier": "贵一点的", "chip_compare": "比较前两个",
        "chip_second": "介绍一下第二个", "chip_reset": "重新开始", "chip_in": "要{v}的",
        "chip_not": "不要{b}", "chip_under": "{p}以内",
    },
}

COLOURS_ZH = {"red": "红色", "blue": "蓝色", "black": "黑色", "white": "白色", "green": "绿色", "grey": "灰色",
              "gray": "灰色", "pink": "粉色", "yellow": "黄色", "purple": "紫色", "orange": "橙色", "brown": "棕色",
              "beige": "米色", "navy": "藏青色", "silver": "银色", "gold": "金色"}


def say(lang: str, key: str, **values) -> str:
    table = _T.get(lang, _T["en"])
    return table.get(key, _T["en"][key]).format(**values)


def value_name(value: str, lang: str) -> str:
    return COLOURS_ZH.get(value.lower(), value) if lang == "zh" else value


def price_text(price: float | None, currency: str, lang: str) -> str:
    return format_price(price, currency, lang)


def need_words(cons, lang: str, zh_leaf=None) -> str:
    """The need in words: wanted values and the kind of product, as the shopper named it ("red running shoes",
    "红色 跑鞋"); never the unparsed rest of the message."""
    words = getattr(cons, "attribute_words", {}) or {}
    values, after, sized, unwanted = [], [], [], []
    for key, vs in cons.attributes.items():
        said = words.get(key)
        if said and _cjk(said) != (lang == "zh"):  # said in the other language ("防水" in English): the store's name
            named = [value_words(key, v, lang) for v in vs]
            said = " ".join(named) if all(_cjk(n) == (lang == "zh") for n in named) else said
        said = said.removesuffix("的") if said and lang == "zh" else said  # "白色的" → 白色跑鞋
        said = said or " ".join(value_name(v, lang) for v in vs)
        noun = _FOR_NOUN.get(key) if lang != "zh" else None
        if noun:  # "shampoo for dry hair", never "dry shampoo" (another product)
            after.append(_with_noun(said, noun))
        elif lang != "zh" and re.match(r"(?:without|w/o|no|non)(?![a-z])", said.lower()):
            unwanted.append(said)  # "headphones without noise cancelling"
        elif lang != "zh" and key == "size" and said.lower().startswith("size "):
            sized.append(said)  # "hiking boots in size 42"
        else:
            values.append(said)
    kind = cons.category_words
    if kind and cons.categories and _cjk(kind) != (lang == "zh"):  # "running shoes", then a turn in Chinese: 跑鞋
        path = cons.categories[0]
        kind = (zh_leaf(path) if zh_leaf and lang == "zh" else path.split(" > ")[-1].lower() if lang != "zh"
                else "") or kind
    if not kind and cons.categories:
        path = cons.categories[0]
        kind = (zh_leaf(path) if zh_leaf and lang == "zh" else "") or path.split(" > ")[-1].lower()
    if kind and after and kind.split()[0].lower() == after[-1].lower().split()[-1]:
        # "damaged hair" + "hair care": the shared word said once ("damaged hair care")
        values, after = values + after[:-1] + [after[-1]], []
        kind = kind.split(maxsplit=1)[1] if len(kind.split()) > 1 else ""
    if sized and not (kind or cons.brands):
        values, sized = values + sized, []
    words = values + ([kind] if kind else list(cons.brands)) + (["for " + " and ".join(after)] if after else []) \
        + (["in " + " or ".join(sized)] if sized else []) + unwanted
    return ("" if lang == "zh" else " ").join(w for w in words if w) if lang == "zh" and all(
        _cjk(w) for w in words) else " ".join(w for w in words if w)


# "got anything bigger?": the wanted values of a measure, said as the shopper would ("bigger backpack", "续航更长 耳机")
_MEASURE_WORDS = {
    "en": {"more": {"battery": "longer-lasting", "power": "more powerful", "storage": "more storage",
                    "ram": "more memory", "ports": "more ports", "pieces": "bigger", "length": "longer"},
           "less": {"battery": "shorter-lasting", "power": "less powerful", "storage": "less storage",
                    "pieces": "smaller", "length": "shorter", "weight": "lighter"}},
    "zh": {"more": {"battery": "续航更长", "power": "功率更大", "storage": "存储更大", "ram": "内存更大",
                    "ports": "接口更多", "pieces": "块数更多", "length": "更长"},
           "less": {"battery": "续航更短", "power": "功率更小", "storage": "存储更小", "pieces": "块数更少",
                    "length": "更短", "weight": "更轻"}},
}


def measure_words(key: str, way: str, lang: str) -> str:
    table = _MEASURE_WORDS["zh" if lang == "zh" else "en"][way]
    default = ("更大" if way == "more" else "更小") if lang == "zh" else ("bigger" if way == "more" else "smaller")
    return table.get(key, default)


# Values said after the kind in English, with what they describe: hair_type=dry is "for dry hair"
_FOR_NOUN = {"hair_type": "hair", "skin_type": "skin"}


def described(key: str, value: str, lang: str) -> str:
    """A value with what it describes where the value alone says something else: "for dry hair", not "dry"."""
    noun = _FOR_NOUN.get(key) if lang != "zh" else None
    return f"for {_with_noun(value, noun)}" if noun else value


def _with_noun(said: str, noun: str) -> str:
    """"dry" → "dry hair"; "damaged hair" stays as said."""
    return said if said.lower().split()[-1:] == [noun] else f"{said} {noun}"


def listing(items: list[str], lang: str) -> str:
    """"A, B and C" / "A、B和C"."""
    if len(items) < 2:
        return "".join(items)
    return ("、" if lang == "zh" else ", ").join(items[:-1]) + say(lang, "and") + items[-1]


def value_words(key: str, value: str, lang: str) -> str:
    """A wanted value in the reply's language: the colour's name, for a yes/no value its key ("waterproof",
    "防水"), a number with its key ("size 43", "43码")."""
    if value.lower() in ("yes", "true"):
        return key_name(key, lang)
    if value.lower() in ("no", "false"):  # "without noise cancelling", "not waterproof", "无主动降噪"
        name = key_name(key, lang)
        return f"无{name}" if lang == "zh" else f"not {name}" if name.endswith(("proof", "safe", "resistant")) \
            else f"without {name}"
    if value.replace(".", "").isdigit():
        return f"{value}码" if lang == "zh" and key == "size" else f"{key.replace('_', ' ')} {value}" if lang != "zh" \
            else value
    return value_name(value, lang)


def _cjk(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in text)


def bound_phrases(cons, currency: str, lang: str, with_brands: bool) -> list[str]:
    out = []
    lo, hi = cons.price_min, cons.price_max
    if lo is not None and hi is not None:
        out.append(say(lang, "between", a=price_text(lo, currency, lang), b=price_text(hi, currency, lang)))
    elif hi is not None:
        out.append(say(lang, "under", p=price_text(hi, currency, lang)))
    elif lo is not None:
        out.append(say(lang, "over", p=price_text(lo, currency, lang)))
    if with_brands:
        out += list(cons.brands)
    out += [say(lang, "not", x=b) for b in cons.exclude_brands]
    out += [say(lang, "not", x=value_name(v, lang)) for vs in cons.exclude_attributes.values() for v in vs]
    return out


def need_text(cons, currency: str, lang: str, zh_leaf=None) -> str:
    need = need_words(cons, lang, zh_leaf)
    bounds = bound_phrases(cons, currency, lang, with_brands=bool(cons.category_words or cons.categories))
    sep = say(lang, "sep")
    return sep.join([need] + bounds) if need else sep.join(bounds)


def found_text(n: int, cons, used, relaxed: list[str], asked: dict | None, currency: str, lang: str,
               zh_leaf=None, personal: bool = False) -> str:
    """The sentence over the cards: what was understood, what had to be left out, and a currency conversion."""
    sep = say(lang, "sep")
    parts = []
    if relaxed:
        need = need_words(cons, lang, zh_leaf)
        bounds = bound_phrases(cons, currency, lang, with_brands=bool(cons.category_words or cons.categories))
        names = [say(lang, f"relax_{r}") for r in relaxed]
        what = names[0] if len(names) == 1 else (sep.join(names[:-1]) + say(lang, "and") + names[-1])
        parts.append(say(lang, "relaxed", need=need or sep.join(bounds),
                         cons=(sep + sep.join(bounds)) if need and bounds else "", what=what))
    need = need_words(used, lang, zh_leaf)
    bounds = bound_phrases(used, currency, lang, with_brands=bool(used.category_words or used.categories))
    cons_text = (say(lang, "pre_cons") + sep.join(bounds)) if bounds else ""
    if need:
        parts.append(say(lang, "found_need", n=n, need=need, cons=cons_text))
    elif personal:
        parts.append(say(lang, "found_personal", n=n, cons=cons_text))
    else:
        parts.append(say(lang, "found", n=n, cons=cons_text))
    order = getattr(used, "sort", None) or getattr(cons, "sort", None)
    if order in ("popular", "price_asc", "price_desc"):  # the order of the cards is part of the answer
        parts.append(say(lang, f"order_{order}"))
    if asked and asked.get("currency"):
        said = [v for v in (asked.get("price_min"), asked.get("price_max")) if v is not None]
        if said:
            amount = said[-1]
            store = "人民币" if lang == "zh" and currency == "CNY" else CURRENCY_SIGNS.get(currency, currency)
            parts.append(say(lang, "converted", store=store,
                             said=price_text(amount, asked["currency"], lang),
                             conv=price_text(amount * asked["rate"], currency, lang)))
    return ("" if lang == "zh" else " ").join(parts)
