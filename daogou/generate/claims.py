"""What a sentence says, checked against the facts: the part of the grounding gate that reads claims, not tokens.

A generated text is rejected (each finding is a :class:`daogou.generate.grounding.Violation`) when it:

* talks about "the shopper / customer / user" in the third person, or tells a story about feelings or other
  people ("was impressed", "their customers") — a reply speaks *to* the shopper, about products;
* is meta-text about the prompt or the data ("Here's a rewritten version…", "The answer to the question is:",
  "based on the data provided", "以下是");
* states a yes/no attribute the other way round from the product ("not noise cancelling" for a product with
  noise_cancelling = yes, "waterproof" for waterproof = no), or both ways in one text;
* claims a pack size or count ("a pack of 20", "set of 4", "20 backpacks") the facts do not have;
* gives properties the facts say nothing about: safety, flammability, ingredients, what is included or comes with
  it, what the price covers, warranties and certifications — unless the product's own facts use that word;
* names a product ("Korvo Shoe Shredding Shocker": a brand followed by capitalised words) that is not in the facts;
* uses a word no dictionary, fact or brand has (a small model's invention: "toshoyashin"), or says where it is
  sold, how it ships or what comes free;
* has a sentence unrelated to the products: four or more content words of which none is in the facts, the request
  or the few words any shop reply uses (for Chinese: no two-character word of the sentence in them).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from daogou.generate import glossary

_THIRD_PERSON = re.compile(
    r"(?<![\w])(?:the|this|our|a|each|every|that)\s+(?:shopper|customer|user|buyer|client|consumer)s?(?![\w])|"
    r"(?<![\w])(?:shoppers|customers|users|buyers|clients|consumers|purchasers)(?![\w])|"
    r"(?<![\w])(?:their|his|her) (?:customers|clients|friends|family|kids|children|team)(?![\w])|"
    r"该(?:顾客|客户|用户|买家)|(?:这位|那位)(?:顾客|客户|用户|买家)|顾客们|用户们|消费者们", re.I)
_STORY = re.compile(
    r"(?<![\w])(?:was|were|is|are|felt|feels|feel|became|got)\s+(?:so\s+|very\s+|really\s+)?(?:impressed|delighted|"
    r"thrilled|excited|amazed|satisfied|disappointed|happy with|in love)(?![\w])|"
    r"(?<![\w])(?:requested|decided|wanted to ensure|to ensure they|fell in love|can'?t stop|couldn'?t be happier)"
    r"(?![\w])|感到(?:非常)?(?:满意|惊喜|失望|开心)|爱不释手|决定购买", re.I)
_META = re.compile(
    r"(?<![\w])(?:here'?s|here is|below is)\s+(?:a|an|the|your)\s+(?:rewritten|revised|improved|updated|new)?\s*"
    r"(?:version|listing|description|copy|summary|answer|text)|rewritten version|"
    r"(?:only|the)\s+facts\s+(?:that\s+)?(?:appear|given|provided|listed)|"
    r"(?:based on|according to|from)\s+the\s+(?:data|facts|information|details|prompt|context)\s+(?:provided|given|"
    r"above|below)|the answer to (?:the|your) question is|as an ai|as a language model|i (?:cannot|can'?t) browse|"
    r"(?<![\w])the prompt(?![\w])|write it again|(?:values|facts|words) that appear|(?:in|from) the data(?![\w])|"
    r"(?<![\w])the data(?: given| shows| says)|以下是|根据(?:提供的|以上|给出的)(?:信息|数据|资料)|作为(?:一个)?(?:ai|人工智能)",
    re.I)
_COUNT = re.compile(
    r"(?<![\w])(?:(?:a\s+)?(?:pack|set|bundle|box|case|lot)\s+of\s+(?P<n1>\d+|two|three|four|five|six|ten|twelve|"
    r"twenty)|(?P<n2>\d+)[-\s]?(?:pack|count|ct)(?![\w])|(?P<n3>\d+|two|three|four|five|six|ten|twelve|twenty)\s+"
    r"(?:pieces?|units?|items?|pairs?|sets?|backpacks|shoes|bottles|pans|cases|chargers|mats))|"
    r"(?P<n4>\d+)(?:件装|只装|个装|双装|支装)",
    re.I)
_UNGIVEN = re.compile(
    r"(?<![\w])(?:safety|safe to use|flammable|non[- ]?flammable|fire[- ]?proof|toxic|non[- ]?toxic|bpa[- ]?free|"
    r"ingredients?|allerg\w+|includes?|included|including|comes? with|bundled|in the box|warranty|guarantee[d]?|"
    r"certified|certification|fda|ce[- ]marked|price (?:of [^.]{0,40})?(?:includes|covers)|covers? (?:both|the)|"
    r"available (?:for purchase|to buy|at|from|online|in stores)|sold (?:at|in|by)|(?:shop|store|stores|shops) in|"
    r"free (?:shipping|delivery)|ships? (?:free|within|in)|eco[- ]?friendly|sustainabl[ey]|environmentally friendly|"
    r"organic|hypoallergenic|recyclable|biodegradable)"
    r"(?![\w])|安全|易燃|阻燃|无毒|成分|配料|包含|附赠|赠送|含有|保修|质保|认证", re.I)
_NEGATION_EN = re.compile(r"(?:not|no|isn'?t|doesn'?t|does not|is not|without|lacks?|non)[\s-]+(?:\w+[\s-]+){0,2}$",
                          re.I)
_NEGATION_ZH = re.compile(r"(?:不|没有|无|不是|不具备|不支持)$")
_SENTENCE = re.compile(r"[^.!?。！？\n]+[.!?。！？]?")
_LATIN_WORD = re.compile(r"[a-z][a-z'-]{2,}")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")
# function words, and words a reply about products may use without naming one of the facts
_FUNCTION = frozenset("""the and for with from that this these those there their they them you your yours are was
were been being have has had having its it's not but can could will would should may might must very also just only
more most less than then too about into onto over under again once here what which who whom whose when where why
how all any each every both either some such same other another our ours out off per via one ones lot lots really
quite much many well even still yet""".split())
_SHOP_WORDS = frozenset("""pick picks option options choice choices product products item items price priced prices
budget cheaper cheap pricier premium match matches compare comparison listing seller store buy order great good
nice best better ideal perfect popular quality design style value money everyday daily use using used wear wearing
look looks looking feel feels comfortable comfort practical reliable solid simple classic modern durable""".split())
_ZH_SHOP = ("商品", "产品", "价格", "预算", "推荐", "选择", "适合", "颜色", "材质", "品牌", "这款", "一款", "性价比",
            "款式", "设计", "日常", "使用", "品质", "质量", "舒适", "实用", "不错", "喜欢", "需要", "可以", "如果",
            "心动", "入手", "下单", "值得", "快来", "看看", "商家", "咨询", "建议", "标明", "提到")
_TITLE_RUN = r"(?:\s+[A-Z][a-z]+){2,}"


def claim_violations(text: str, subjects: Sequence, context=None, brands: dict[str, str] | None = None) -> list:
    """Findings in ``text`` about ``subjects`` (grounding.Truth); ``brands``: the catalog's brand surfaces."""
    from daogou.generate.grounding import Violation
    out: list[Violation] = []
    pid = subjects[0].product_id if len(subjects) == 1 else ""
    facts = "\n".join(t.text for t in subjects) + ("\n" + context.text if context is not None else "")
    for kind, pattern in (("third_person", _THIRD_PERSON), ("story", _STORY), ("meta", _META)):
        for m in pattern.finditer(text):
            out.append(Violation(kind, m.group(), pid))
    for m in _COUNT.finditer(text):
        n = next(g for g in m.groups() if g)
        if not re.search(rf"(?<![\d]){re.escape(n)}(?![\d])\s*(?:pairs|pcs|pieces|pack|piece|双|片|件|装|-piece)",
                         facts, re.I) and m.group().lower() not in facts:
            out.append(Violation("count", m.group(), pid))
    for m in _UNGIVEN.finditer(text):
        word = m.group().lower()
        if word not in facts and not (word.startswith("includ") and "includ" in facts):
            out.append(Violation("ungiven", m.group(), pid))
    out += _contradictions(text, subjects)
    if brands:
        out += _invented_names(text, subjects, brands, facts)
    out += _unrelated(text, facts.lower(), pid)
    out += _invented_words(text, facts.lower(), brands or {}, pid)
    return out


def _invented_words(text: str, facts: str, brands: dict[str, str], pid: str) -> list:
    """Latin words of five letters or more that no dictionary, no fact and no brand has ("toshoyashin",
    "tiyamama-style"): a small model's inventions."""
    from daogou.generate.grounding import Violation
    from daogou.search.typos import is_english_word
    out = []
    known = {b.lower() for b in brands}
    for m in re.finditer(r"(?<![\w-])[A-Za-z]{5,}(?![\w])", text):
        word = m.group().lower()
        if word in facts or word in known or is_english_word(word, zipf=1.5) or \
                is_english_word(word.rstrip("s"), zipf=1.5):
            continue
        out.append(Violation("invented_word", m.group(), pid))
    return out


def _unrelated(text: str, facts: str, pid: str) -> list:
    from daogou.generate.grounding import Violation
    out = []
    for sentence in _SENTENCE.findall(text):
        low = sentence.lower()
        words = [w for w in _LATIN_WORD.findall(low) if w not in _FUNCTION]
        runs = _CJK_RUN.findall(re.sub(r"[零〇一二两三四五六七八九十百千万亿元块]", " ", sentence))
        if runs:
            pairs = {run[i:i + 2] for run in runs for i in range(len(run) - 1)}
            if len(pairs) >= 5 and not any(p in facts for p in pairs) and not any(w in sentence for w in _ZH_SHOP) \
                    and not any(w in facts for w in words):
                out.append(Violation("unrelated", sentence.strip()[:60], pid))
            continue
        if len(words) < 4:
            continue
        if not any(w in _SHOP_WORDS or (w[:5] if len(w) > 5 else w) in facts for w in words):
            out.append(Violation("unrelated", sentence.strip()[:60], pid))
    return out


def _yes_no_keys(subjects: Sequence) -> dict[str, tuple[set[str], list[str]]]:
    """key → (the products' values, the ways text names the key: "waterproof", "noise cancelling", "防水")."""
    keys: dict[str, tuple[set[str], list[str]]] = {}
    for t in subjects:
        for key, value in getattr(t, "attributes", ()):
            if value.lower() not in ("yes", "no"):
                continue
            names = [key.replace("_", " "), key.replace("_", "-"), glossary.key_en(key).lower(),
                     glossary.value_zh(key, "yes"), glossary.key_zh(key)]
            entry = keys.setdefault(key, (set(), []))
            entry[0].add(value.lower())
            entry[1].extend(n for n in dict.fromkeys(names) if n and n not in ("是", "否") and n not in entry[1])
    return keys


def _contradictions(text: str, subjects: Sequence) -> list:
    from daogou.generate.grounding import Violation
    out = []
    pid = subjects[0].product_id if len(subjects) == 1 else ""
    for key, (values, names) in _yes_no_keys(subjects).items():
        if len(values) != 1:
            continue  # compared products differ: attribution is the grounding checker's job
        said: set[str] = set()
        first = ""
        for name in names:
            cjk = bool(re.search(r"[\u4e00-\u9fff]", name))
            pattern = re.escape(name) if cjk else rf"(?<![\w]){re.escape(name)}(?![\w])"
            for m in re.finditer(pattern, text, 0 if cjk else re.I):
                before = text[max(0, m.start() - 30):m.start()]
                negated = bool((_NEGATION_ZH if cjk else _NEGATION_EN).search(before))
                label = re.match(r"\s*[:：]\s*([^\s,，。.;；]+)", text[m.end():])
                if label:  # "Waterproof: no", "防水：透气": the value after the label says it
                    word = label.group(1).lower()
                    if word in ("no", "否", "无", "不", glossary.value_zh(key, "no").lower()):
                        negated = True
                    elif word not in ("yes", "是", "有", glossary.value_zh(key, "yes").lower()):
                        continue
                said.add("no" if negated else "yes")
                first = first or m.group()
        value = next(iter(values))
        if said and (len(said) > 1 or value not in said):
            out.append(Violation("contradiction", first, pid))
    return out


def _invented_names(text: str, subjects: Sequence, brands: dict[str, str], facts: str) -> list:
    from daogou.generate.grounding import Violation
    out = []
    pid = subjects[0].product_id if len(subjects) == 1 else ""
    for surface in brands:
        if re.search(r"[\u4e00-\u9fff]", surface):
            continue
        for m in re.finditer(rf"(?<![\w]){re.escape(surface)}{_TITLE_RUN}", text):
            words = m.group().split()
            # the longest start of the name that the facts hold; more capitalised words than that are invented
            known = max((k for k in range(1, len(words) + 1) if " ".join(words[:k]).lower() in facts), default=1)
            if len(words) - known >= 2:
                out.append(Violation("invented_name", m.group(), pid))
    return out
