"""Template explanations, comparisons and answers (English and 中文), written from facts only."""

from __future__ import annotations

import re

from daogou.generate.facts import Facts, Reasons, format_price, sentences
from daogou.generate.grounding import Truth
from daogou.generate.tasks import Task
from daogou.generate.template import capital, feature_phrases, grounded_sentences, rating_sentence

INTENTS = (
    ("price", r"price|cost|how much|expensive|cheap|afford|under [$¥£€]?\d|价格|多少钱|价钱|价位|价个|什么价|贵|便宜|售价|"
              r"\d+\s*(?:块|元)"),
    ("stock", r"in stock|available|availability|sold out|有货|库存|缺货|现货"),
    ("brand", r"brand|who makes|manufacturer|made by|品牌|牌子|厂家|哪家|大牌|杂牌"),
    ("rating", r"review|rating|stars|rated|customers say|people say|评价|评分|口碑|好评"),
)
KEY_WORDS = {
    "color": r"colou?r|颜色|什么色", "colour": r"colou?r|颜色|什么色",
    "material": r"material|made of|made from|fabric|材质|材料|什么做的", "size": r"\bsize|how big|尺码|大小|多大",
    "age": r"\bage\b|how old|years? old|年龄|几岁", "battery": r"battery|续航|电池", "capacity": r"capacity|容量",
    "storage": r"storage|存储", "ram": r"\bram\b|memory|运行内存", "power": r"power|watt|功率|快充",
    "waterproof": r"waterproof|rain|防水", "noise_cancelling": r"noise|降噪",
}
_WORDS = re.compile(r"[a-z0-9]{3,}")
_STOP = {"the", "and", "for", "does", "this", "that", "with", "what", "how", "are", "can", "will", "have", "has",
         "you", "your", "product", "item", "there", "its", "it's", "from", "about", "which", "any", "not"}


def explain(task: Task, f: Facts, truth: Truth, context: Truth | None) -> str:
    r = task.reasons or Reasons()
    zh = task.lang == "zh"
    budget = format_price(r.budget, f.currency, task.lang) if r.budget is not None else ""
    viewed = [q.text(task.lang)[0] for q in r.viewed[:2]]
    because = _because_zh(r, viewed, budget) if zh else _because_en(r, viewed, budget)
    fits = _fits(f, r, budget, zh) + feature_phrases(f, 2)
    if r.bought_with:
        other = r.bought_with[0].text(task.lang)[0]
        fits.append(f"常与{other}一起购买" if zh else f"often bought with {other}")
    if zh:
        head = f"因为您{'，'.join(because)}，为您推荐：" if because else "为您推荐："
        return f"{head}{f.title}。" + ("，".join(fits) + "。" if fits else "")
    head = f"Because you {_and(because)}: " if because else "Picked for you: "
    return f"{head}{f.title}" + (" — " + "; ".join(fits) + "." if fits else ".")


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _because_en(r: Reasons, viewed: list[str], budget: str) -> list[str]:
    because = [f"looked at {_and(viewed)}"] if viewed else []
    if r.query:
        because.append(f'asked for "{r.query}"' + (f" under {budget}" if budget else ""))
    elif budget:
        because.append(f"set a budget of {budget}")
    if r.liked_brand:
        because.append(f"like {r.liked_brand}")
    return because


def _because_zh(r: Reasons, viewed: list[str], budget: str) -> list[str]:
    because = [f"浏览过{'、'.join(viewed)}"] if viewed else []
    if r.query:
        because.append(f"想找「{r.query}」" + (f"（预算{budget}以内）" if budget else ""))
    elif budget:
        because.append(f"预算在{budget}以内")
    if r.liked_brand:
        because.append(f"喜欢{r.liked_brand}")
    return because


def _fits(f: Facts, r: Reasons, budget: str, zh: bool) -> list[str]:
    if f.price is None:
        return []
    price = f.price_text()
    if r.budget is None:
        return [f"售价{price}" if zh else f"it costs {price}"]
    if f.price <= r.budget:
        return [f"售价{price}，在预算之内" if zh else f"it costs {price}, within your budget"]
    return [f"售价{price}，略高于预算" if zh else f"it costs {price}, a little above your budget"]


def compare(facts: list[Facts]) -> str:
    zh = facts[0].lang == "zh"
    lines = [f"对比{len(facts)}款商品：" if zh else f"Comparing {len(facts)} products:"]
    for f in facts:
        bits = [b for b in (f.brand_shown if f.brand_shown.lower() not in f.title.lower() else "", f.price_text())
                if b] + feature_phrases(f, 3)
        if not f.in_stock:
            bits.append("暂时缺货" if zh else "out of stock")
        lines.append(f"[{f.label}] {f.title}" + (("：" + "，".join(bits) + "。") if zh else
                                                   (" — " + ", ".join(bits) + ".") if bits else "."))
    lines += _summary(facts, zh)
    return "\n".join(lines)


def _summary(facts: list[Facts], zh: bool) -> list[str]:
    out = []
    priced = [f for f in facts if f.price is not None]
    if len(priced) >= 2 and len({f.price for f in priced}) > 1:
        low = min(priced, key=lambda f: f.price)
        out.append(f"价格最低：[{low.label}]（{low.price_text()}）。" if zh
                   else f"Lowest price: [{low.label}] at {low.price_text()}.")
    rated = [f for f in facts if f.rating]
    if len(rated) >= 2 and len({f.rating for f in rated}) > 1:
        best = max(rated, key=lambda f: float(f.rating))
        out.append(f"评分最高：[{best.label}]（{best.rating}）。" if zh
                   else f"Best rated: [{best.label}] ({best.rating}).")
    for key in _differing_keys(facts)[:3]:
        cells = [(f.label, f.attribute(key)) for f in facts if f.attribute(key)]
        label = cells[0][1].label
        if zh:
            out.append(f"{label}：" + "，".join(f"[{lab}] {a.shown}" for lab, a in cells) + "。")
        else:
            out.append(f"{capital(label)}: " + ", ".join(f"[{lab}] {a.shown}" for lab, a in cells) + ".")
    return out


def _differing_keys(facts: list[Facts]) -> list[str]:
    keys: dict[str, set[str]] = {}
    for f in facts:
        for a in f.attributes:
            keys.setdefault(a.key.lower(), set()).add(a.value.lower())
    counts = {k: sum(1 for f in facts if f.attribute(k)) for k in keys}
    differing = [k for k, values in keys.items() if counts[k] >= 2 and len(values) > 1]
    # what the products do (battery, noise cancelling, capacity) before what they look like
    return sorted(differing, key=lambda k: _LOOKS.index(k) if k in _LOOKS else -1)


_LOOKS = ("material", "size", "color", "colour")


def answer(question: str, f: Facts, truth: Truth, context: Truth | None) -> str:
    zh = f.lang == "zh"
    q = question.lower()
    said = [_intent(intent, f, zh) for intent, pattern in INTENTS if re.search(pattern, q)]
    said += [phrase_answer(a, zh) for a in f.attributes
             if re.search(KEY_WORDS.get(a.key.lower(), r"(?!)"), q) or a.label.lower() in q]
    said = [s for s in said if s]
    if said:
        return (" " if not zh else "").join(dict.fromkeys(said))
    best = _best_sentence(q, f, truth)
    if best:
        return f"商品信息中提到：{best}" if zh else f"From the listing: {best}"
    listed = [phrase_answer(a, zh) for a in f.attributes[:6]]  # not understood: everything the listing states
    listed = [x.rstrip("。.") for x in listed if x]
    if zh:
        return "商品信息中没有提到这一点" + (f"；已标明的有：{'，'.join(listed)}" if listed else "") + "。建议咨询商家。"
    return "The listing does not say" + (f"; what it does list: {'; '.join(listed)}" if listed else "") + \
        ". Please ask the seller."


def phrase_answer(a, zh: bool) -> str:
    if a.label and a.label in a.shown:
        return f"支持{a.shown}。" if zh else f"{capital(a.shown)}."
    return f"{a.label}：{a.shown}。" if zh else f"{capital(a.label)}: {a.shown}."


def _intent(intent: str, f: Facts, zh: bool) -> str:
    if intent == "price":
        if f.price is None:
            return "商品暂未标价。" if zh else "The listing shows no price."
        return f"售价{f.price_text()}。" if zh else f"It costs {f.price_text()}."
    if intent == "stock":
        return ("目前有货。" if f.in_stock else "目前缺货。") if zh else \
            ("It is in stock." if f.in_stock else "It is out of stock right now.")
    if intent == "brand":
        return (f"品牌是{f.brand_shown}。" if zh else f"It is made by {f.brand_shown}.") if f.brand_shown else ""
    if not f.rating:
        return "暂无评分。" if zh else "It has no rating yet."
    first = f.reviews[0] if f.reviews else ""
    review = "" if not first else (f"有买家说：{first}" if zh else f" One reviewer says: {first}")
    return rating_sentence(f) + review


def _best_sentence(q: str, f: Facts, truth: Truth) -> str:
    wanted = _terms(q)
    if not wanted:
        return ""
    pool = [s for text in (f.description, f.details, *f.reviews) for s in sentences(text)]
    pool = grounded_sentences(" ".join(pool), truth, 200) if pool else []
    scored = [(len(wanted & _terms(s.lower())), -i, s) for i, s in enumerate(pool)]
    best = max(scored, default=(0, 0, ""))
    return best[2] if best[0] >= (2 if _has_cjk(q) else 1) else ""


def _terms(text: str) -> set[str]:
    words = {w for w in _WORDS.findall(text) if w not in _STOP}
    cjk = "".join(c for c in text if "\u3400" <= c <= "\u9fff")
    return words | {cjk[i:i + 2] for i in range(len(cjk) - 1)}


def _has_cjk(text: str) -> bool:
    return any("\u3400" <= c <= "\u9fff" for c in text)
