"""An automatic judge of what the shopper reads: the grounding gate's rules, written again here without its code.

    from judge import Judge
    judge = Judge(all_products)
    problems = judge.text(text, products, request="is the first one waterproof?", budget=400)

The gate (daogou/generate/grounding.py + claims.py) decides what is shown; this module scores what was shown, so a
rule the gate implements wrongly shows up here as a bad text. It reads the products' data, never the gate's
patterns. A text is judged bad when it has any of these problems (each a string "kind: detail"):

- ``price``       a price (a number next to ¥ $ £ € 元 块 …) that is not the product's price or the shopper's budget;
- ``number``      any other number that neither the products' data nor the request holds;
- ``brand``       a brand of the catalog that is not a discussed product's brand (nor in the request);
- ``name``        a product name: a run of three or more Capitalised Words (or a brand and two more) that is not
                  written in the products' data;
- ``value``       a colour or material the catalog knows that the discussed products do not have;
- ``contradiction`` a yes/no property (waterproof, noise cancelling, dishwasher safe …) said the other way round;
- ``third_person`` talk about the shopper / customer / user / buyer instead of to them;
- ``story``       feelings or doings of people ("was impressed", "decided", "满意");
- ``meta``        text about the prompt, the data or itself ("Here's a rewritten version", "以下是");
- ``count``       a pack size or count ("pack of 20", "3 pairs") the data does not hold;
- ``ungiven``     properties the data does not give: safety, ingredients, what is included, warranty, certificates;
- ``unrelated``   a sentence that shares no word with the products, the store's vocabulary or the request;
- ``echo``        the message's own filler words repeated back as if they were the query ("picks for “I need”");
- ``made_up``     a word no dictionary, fact or brand has ("toshoyashin");
- ``language``    a reply in the other language than the message.

Answers to attribute questions are judged by :meth:`Judge.answer` against the product's own value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

_CJK = re.compile(r"[\u3400-\u9fff]")
_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]+")
_NUM = re.compile(r"(?<![A-Za-z0-9_.])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?![\d])")
_CURRENCY_BEFORE = re.compile(r"(?:[¥￥$£€]|RMB|CNY|USD|GBP|EUR|HK\$)\s*$", re.I)
_CURRENCY_AFTER = re.compile(r"^\s*(?:元|块|rmb|yuan|dollars?|pounds?|euros?|gbp|usd|cny)", re.I)
_NOT_STATED = r"doesn't state|does not state|not stated|doesn't say|does not say|没有写|没有提到|未注明"
_SENTENCES = re.compile(r"[^.!?。！？\n]+[.!?。！？]*")

# the rules' words (English and Chinese); kept short and literal
THIRD = ("shopper", "shoppers", "customer", "customers", "user", "users", "buyer", "buyers", "consumer", "consumers",
         "client", "clients", "purchaser", "purchasers")
THIRD_ZH = ("顾客", "客户", "用户", "买家", "消费者", "这位", "该用户")
STORY = ("impressed", "delighted", "thrilled", "amazed", "excited", "satisfied", "disappointed", "overjoyed",
         "requested", "decided", "fell in love", "loved it", "can't wait", "couldn't be happier", "happy with",
         "their customers", "his friends", "her friends", "their friends", "their family", "their kids")
STORY_ZH = ("感到满意", "很满意", "非常满意", "惊喜", "失望", "爱不释手", "决定购买", "开心极了", "他们的")
META = ("rewritten", "rewrite", "here's a", "here is a", "here's the", "here is the", "below is", "as an ai",
        "language model", "the prompt", "the data provided", "the information provided", "the facts provided",
        "facts that appear", "provided data", "provided information", "the answer to the question",
        "the answer to your question is", "based on the data", "based on the information", "based on the facts",
        "write it again", "appear in the data", "in the data", "using only")
META_ZH = ("以下是", "根据提供", "根据以上", "根据给出", "作为ai", "作为人工智能", "提示词", "重写")
UNGIVEN = ("safe", "safety", "flammable", "fireproof", "fire-proof", "toxic", "non-toxic", "bpa", "ingredient",
           "ingredients", "allergen", "hypoallergenic", "included", "includes", "including", "comes with",
           "in the box", "bundled", "warranty", "guarantee", "guaranteed", "certified", "certification", "fda",
           "approved", "dermatologist", "organic", "eco-friendly", "recyclable", "lifetime", "available for purchase",
           "available at", "sold at", "shop in", "store in", "free shipping", "free delivery", "ships free",
           "sustainable", "environmentally friendly", "biodegradable")
UNGIVEN_ZH = ("安全", "易燃", "阻燃", "无毒", "有毒", "成分", "配料", "包含", "附赠", "赠送", "含有", "保修", "质保",
              "认证", "有机", "环保")
COUNT_WORDS = ("pack", "packs", "pcs", "pieces", "piece", "pairs", "pair", "count", "units", "items", "set")
NUMBER_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "ten": 10, "twelve": 12, "twenty": 20}
NEGATIONS = ("not", "no", "isn't", "isnt", "doesn't", "doesnt", "without", "non", "lacks", "never", "nor")
NEG_ZH = ("不", "没", "无", "非", "否")
YES_NO_ZH = {"waterproof": ("防水",), "noise_cancelling": ("降噪",), "dishwasher_safe": ("洗碗机",)}
FILLERS = ("i need", "i want", "i'm looking", "im looking", "looking for", "show me", "find me", "can you", "could you",
           "i would like", "i'd like", "give me", "get me", "想买", "我要", "我想", "帮我", "有没有", "给我", "推荐")
# words any shop reply may use without naming a product
SHOP_WORDS = set("""pick picks option options choice choices product products item items price prices budget cheaper
pricier cheapest premium match matches matching compare compared comparison first second third last one ones both
brand brands colour color colours colors size sizes material materials listing seller stock store buy order
similar left shown found show recommend recommended suggestion suggestions nothing condition conditions removing
remove category categories range search asked want looking help start over stated state states mention mentions
information details detail yes sure value values difference differences feature features rating review reviews
about here the and for with your you are this that these those not from its has have more less better great good
""".split())
STOP = set("""a an the and or but of to in on at by for with from as is are was were be been being it its this that
these those there here their they them you your we our i me my he she his her not no yes very so than then too also
just only more most less least can could will would should may might must do does did done has have had having
if else when while what which who whom whose why how all any each every both either neither some such own same
other another into onto over under up down out off again further once about against between through during before
after above below per via""".split())


def _lower(s: str) -> str:
    return s.lower().replace("\u2019", "'")


def _has_word(text: str, word: str) -> bool:
    if _CJK.search(word):
        return word in text
    return re.search(rf"(?<![a-z]){re.escape(word)}(?![a-z])", text) is not None


def _numbers(text: str) -> list[tuple[float, int, int]]:
    out = []
    for m in _NUM.finditer(text):
        whole = m.group(1).replace(",", "")
        value = float(whole + ("." + m.group(2) if m.group(2) else ""))
        out.append((value, m.start(), m.end()))
    return out


_ZH_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def _chinese_numbers(text: str) -> list[int]:
    """Numbers written in Chinese numerals up to the thousands ("四十" 40, "两百五十" 250, "三千" 3000)."""
    out = []
    for run in re.findall(r"[零一二两三四五六七八九十百千]+", text):
        total, digit = 0, 0
        for ch in run:
            if ch in _ZH_DIGITS:
                digit = _ZH_DIGITS[ch]
            else:
                unit = {"十": 10, "百": 100, "千": 1000}[ch]
                total += (digit or 1) * unit
                digit = 0
        total += digit
        out.append(total)
    return out


class Judge:
    """Judges texts against ``products`` (every product of the store: brands, colours and materials come from all)."""

    def __init__(self, products: Iterable, checked_keys: Sequence[str] = ("color", "colour", "material")):
        self.products = {p.id: p for p in products}
        self.brands: dict[str, str] = {}
        self.values: dict[str, str] = {}
        self.vocab: set[str] = set(SHOP_WORDS)
        self.keys: set[str] = set()
        self.titles = {t: p for p in self.products.values()
                       for t in [p.title] + [tr.get("title", "") for tr in (p.translations or {}).values()]
                       if len(t) >= 12}
        for p in self.products.values():
            self.keys.update(k.replace("_", " ").lower() for k in (p.attributes or {}))
            if p.brand and len(p.brand) > 2 and p.brand.lower() not in ("generic", "unbranded", "unknown", "none"):
                self.brands[_lower(p.brand)] = p.brand
            for key, value in (p.attributes or {}).items():
                if key in checked_keys and isinstance(value, str) and len(value) > 2:
                    self.values[_lower(value)] = key
            for part in p.category:
                self.vocab.update(w.lower() for w in _WORD.findall(part))
        for key in ("yes", "no", "mixed", "other", "standard", "natural", "all"):
            self.values.pop(key, None)

    # ------------------------------------------------------------------ what the data says
    def facts(self, products: Sequence) -> str:
        parts = []
        for p in products:
            parts += [p.title, p.description, p.brand, " ".join(p.category), " > ".join(p.category)]
            for key, value in (p.attributes or {}).items():
                parts.append(f"{key.replace('_', ' ')} {key} {value}")
            for tr in (p.translations or {}).values():
                parts += [str(v) for v in tr.values()]
            if p.price is not None:
                parts.append(f"{p.price:g} {p.price:.2f}")
        return _lower("\n".join(parts))

    def _zh_facts(self, products: Sequence) -> str:
        """Chinese names of the products' values (the store's own bilingual vocabulary, as data)."""
        try:
            from daogou.generate import glossary
        except ImportError:  # pragma: no cover - the judge then reads only the products' own Chinese text
            return ""
        out = []
        for p in products:
            for key, value in (p.attributes or {}).items():
                out += [glossary.key_zh(key), glossary.value_zh(key, str(value))]
            out += list(glossary.brand_aliases(p.brand))
        return "\n".join(out)

    # ------------------------------------------------------------------ one text
    def text(self, text: str, products: Sequence, request: str = "", budget: float | None = None,
             lang: str | None = None, allow_numbers: Iterable[float] = ()) -> list[str]:
        facts = self.facts(products) + "\n" + self._zh_facts(products).lower()
        req = _lower(request)
        problems: list[str] = self._echo(text, request)
        # an example offered to the shopper ("e.g. “red running shoes under ¥300”") is a suggestion, not a claim
        text = re.sub(r"(?i)(?:e\.g\.|for example|such as|like|or|比如|例如|或)[:：]?\s*[“\"「]([^”\"」]{1,80})[”\"」]", " ",
                      text)
        named = [p for title, p in self.titles.items() if title in text]  # products the text names in full
        facts += "\n" + self.facts(named)
        low = _lower(text)
        problems += self._numbers(text, products, facts, req, budget, set(allow_numbers))
        problems += self._brands(text, low, products, facts, req)
        problems += self._names(text, facts, req)
        problems += self._values(low, facts, req)
        problems += self._contradictions(low, products)
        problems += self._words(low, facts, req)
        problems += self._counts(low, facts, req)
        problems += self._unrelated(text, facts, req)
        problems += self._made_up(text, facts, req)
        if lang in ("en", "zh") and text.strip():
            cjk = len(_CJK.findall(text))
            latin = len(_WORD.findall(text))
            if lang == "zh" and cjk == 0:
                problems.append("language: an English reply to a Chinese message")
            if lang == "en" and cjk > max(4, latin):
                problems.append("language: a Chinese reply to an English message")
        return problems

    def _numbers(self, text, products, facts, req, budget, allowed) -> list[str]:
        known = {v for v, _, _ in _numbers(facts)} | {v for v, _, _ in _numbers(req)} | allowed
        known |= {float(v) for v in _chinese_numbers(req)}
        known |= {float(i) for i in range(0, 11)} | {float(len(products))}
        prices = {round(p.price, 2) for p in products if p.price is not None}
        out = []
        for value, start, end in _numbers(text):
            before, after = text[max(0, start - 5):start], text[end:end + 8]
            if _CURRENCY_BEFORE.search(before) or _CURRENCY_AFTER.match(after):
                if round(value, 2) not in prices and (budget is None or abs(value - budget) > 0.01) \
                        and value not in {v for v, _, _ in _numbers(req)}:
                    out.append(f"price: {text[max(0, start - 1):end + 1].strip()}")
            elif value not in known and not re.match(r"^[.)、]\s", text[end:end + 2]):
                out.append(f"number: {text[start:end]}")
        return out

    def _brands(self, text, low, products, facts, req) -> list[str]:
        from wordfreq import zipf_frequency
        own = {_lower(p.brand) for p in products}
        out = []
        for surface, brand in self.brands.items():
            if surface in own or surface in req or surface in facts:
                continue
            if zipf_frequency(surface, "en") >= 3.0:
                # a brand that is also a word ("Unique", "Ideal"): only written as the name, mid-sentence
                if re.search(rf"(?<![.!?]\s)(?<!^)(?<![A-Za-z]){re.escape(brand)}(?![a-z])", text.strip()):
                    out.append(f"brand: {brand}")
            elif _has_word(low, surface):
                out.append(f"brand: {brand}")
        return out

    def _names(self, text, facts, req) -> list[str]:
        out = []
        for m in re.finditer(r"(?:[A-Z][a-z]+|[A-Z]{2,})(?:[ -](?:[A-Z][a-z]+|[A-Z]{2,}|\d+)){2,}", text):
            run = m.group()
            words = run.split()
            if _lower(run) in facts or _lower(run) in req:
                continue
            # a name a product has is written in its data; how much of the run is
            longest = 0
            for i in range(len(words)):
                for j in range(len(words), i, -1):
                    if j - i > longest and _lower(" ".join(words[i:j])) in facts:
                        longest = j - i
            brand_led = _lower(words[0]) in self.brands
            if len(words) - longest >= (2 if brand_led else 3):
                out.append(f"name: {run}")
        return out

    def _values(self, low, facts, req) -> list[str]:
        out = []
        # "the listing doesn't state whether it is black": naming a value the data lacks, to say so, is no claim
        low = " ".join(x for x in _SENTENCES.findall(low) if not re.search(_NOT_STATED, x))
        for surface, key in self.values.items():
            if _has_word(low, surface) and not _has_word(facts, surface) and surface not in req:
                # "silk" in "silky" is not a claim; a negated value ("not leather") is no claim of having it
                m = re.search(rf"(?<![a-z]){re.escape(surface)}(?![a-z])", low)
                if m and re.search(r"(?:not|no|non|without)[\s-]+$", low[max(0, m.start() - 12):m.start()]):
                    continue
                out.append(f"value: {surface} ({key})")
        return out

    def _contradictions(self, low, products) -> list[str]:
        if len(products) != 1:
            return []
        p = products[0]
        out = []
        for key, value in (p.attributes or {}).items():
            if str(value).lower() not in ("yes", "no"):
                continue
            names = {key.replace("_", " "), key.replace("_", "-"), key.replace("_", "")}
            if key == "noise_cancelling":
                names |= {"noise canceling", "noise-canceling", "anc"}
            names |= set(YES_NO_ZH.get(key, ()))
            said = set()
            for sentence in _SENTENCES.findall(low):
                for clause in re.split(r"[,;，；•]| but | and ", sentence):
                    for name in names:
                        i = clause.find(name)
                        if i < 0 or (not _CJK.search(name) and not _has_word(clause, name)):
                            continue
                        before = clause[:i]
                        after = clause[i + len(name):]
                        if _CJK.search(name):
                            label = re.match(r"[\u4e00-\u9fff]{0,4}\s*[:：]\s*(\S+)", after)
                            negative = any(n in before[-3:] for n in NEG_ZH) or bool(label and (
                                label.group(1)[:1] in NEG_ZH or label.group(1).startswith(self._zh_no(key))))
                        else:
                            negative = any(_has_word(before, n) for n in NEGATIONS) or \
                                bool(re.match(r"\s*[:：]\s*no\b", after))
                        said.add("no" if negative else "yes")
            if said and (str(value).lower() not in said or len(said) > 1):
                out.append(f"contradiction: {key.replace('_', ' ')} is {value}, the text says {'/'.join(sorted(said))}")
        return out

    def _words(self, low, facts, req) -> list[str]:
        out = []
        for kind, words in (("third_person", THIRD), ("third_person", THIRD_ZH), ("story", STORY),
                            ("story", STORY_ZH), ("meta", META), ("meta", META_ZH)):
            for w in words:
                if _has_word(low, w) and not _has_word(facts, w):  # the seller's own words may be quoted
                    out.append(f"{kind}: {w}")
        for key in self.keys:  # a property's own name ("dishwasher safe") is no claim of an ungiven property
            low = low.replace(key, " ")
        low = " ".join(x for x in _SENTENCES.findall(low) if not re.search(_NOT_STATED, x))
        for w in UNGIVEN + UNGIVEN_ZH:
            if _has_word(low, w) and not _has_word(facts, w) and not _has_word(req, w):
                stem = w[:5]
                if not _CJK.search(w) and len(w) > 5 and re.search(rf"(?<![a-z]){re.escape(stem)}", facts):
                    continue  # "includes" when the data says "including"
                out.append(f"ungiven: {w}")
        return out

    def _counts(self, low, facts, req) -> list[str]:
        out = []
        num = r"(\d+|" + "|".join(NUMBER_WORDS) + r")"
        patterns = [rf"(?:pack|set|box|bundle|lot|case) of {num}", rf"{num}[\s-]?(?:{'|'.join(COUNT_WORDS)})\b",
                    r"(\d+)\s*(?:件装|只装|个装|双装|支装|件套)"]
        for pattern in patterns:
            for m in re.finditer(pattern, low):
                n = m.group(1)
                value = NUMBER_WORDS.get(n, None) if not n.isdigit() else int(n)
                near = re.findall(r"(\d+)\s*[-\s]?(?:pairs|pcs|pieces|piece|pack|双|片|件|装)", facts)
                if value is not None and str(value) not in near and m.group() not in facts and \
                        str(value) not in req:
                    out.append(f"count: {m.group()}")
        return out

    def _unrelated(self, text, facts, req) -> list[str]:
        if _CJK.search(text):
            return []  # Chinese words need a segmenter to compare; the other rules still read Chinese text
        known = set(_WORD.findall(facts)) | set(_WORD.findall(req)) | self.vocab
        out = []
        for sentence in _SENTENCES.findall(text):
            words = [w.lower() for w in _WORD.findall(sentence)]
            content = [w for w in words if w not in STOP and len(w) > 2]
            if len(content) < 4:
                continue
            if not any(w in known or w.rstrip("s") in known or w + "s" in known for w in content):
                out.append(f"unrelated: {sentence.strip()[:60]}")
        return out

    def _made_up(self, text, facts, req) -> list[str]:
        """Words no English dictionary (wordfreq, Zipf ≥ 1) and no fact or brand holds."""
        from wordfreq import zipf_frequency
        out = []
        for w in set(re.findall(r"\b[A-Za-z]{5,}\b", text)):
            low = w.lower()
            if low in facts or low in req or low in self.brands:
                continue
            if zipf_frequency(low, "en") < 1.0 and zipf_frequency(low.rstrip("s"), "en") < 1.0:
                out.append(f"made_up: {w}")
        return out

    def _echo(self, text, request) -> list[str]:
        if not request:
            return []
        out = []
        req = _lower(request)
        for m in re.finditer(r"[“\"「『]([^”\"」』]{1,80})[”\"」』]", text):
            quoted = _lower(m.group(1)).strip()
            if quoted and quoted in req and any(f in quoted for f in FILLERS):
                out.append(f"echo: {m.group()}")
            elif quoted and quoted in req and len(quoted) >= 0.8 * len(req.strip()) and re.search(r"[,，。]", quoted):
                out.append(f"echo: {m.group()}")  # the whole message, punctuation and all, as "the query"
        return out

    # ------------------------------------------------------------------ answers
    def answer(self, text: str, product, key: str, lang: str) -> list[str]:
        """An attribute question about ``product``: the reply must give its value, or say plainly it is not stated."""
        low = _lower(text)
        attrs = {k.lower(): v for k, v in (product.attributes or {}).items()}
        if key == "brand":
            value = product.brand
        elif key == "price":
            value = product.price
        elif key in ("color", "colour"):
            value = attrs.get("color", attrs.get("colour"))
        else:
            value = attrs.get(key)
        not_stated = re.search(r"not stated|doesn't say|does not say|doesn't state|no information|not listed|"
                               r"not mention|没有(?:提到|说明|写明|标注)|未(?:注明|说明|标明)|没写", low)
        if value in (None, ""):
            return [] if not_stated or not text.strip() else ([] if key not in low else [])
        if not_stated and not self._gives(low, key, value):
            return [f"answer: says not stated, the product's {key} is {value}"]
        if key == "price":
            found = any(abs(v - float(value)) < 0.01 for v, _, _ in _numbers(text))
            return [] if found else [f"answer: the price {value:g} is not given"]
        sv = str(value).lower()
        if sv in ("yes", "no"):
            zh_yes = ("是", "可以", "支持", "有", "能")
            zh_no = ("不", "没", "否", "无")
            if lang == "zh" and _CJK.search(text):
                head = text[:12]
                said_no = any(n in head for n in zh_no)
                said_yes = not said_no and any(y in head for y in zh_yes)
            else:
                said_no = bool(re.search(r"\bno\b|\bnot\b|isn't|doesn't|n't", low[:60]))
                said_yes = not said_no and bool(re.search(r"\byes\b|\bit is\b|\bit's\b|\bit does\b|\bit can\b",
                                                          low[:60]))
            if sv == "yes" and not said_yes:
                return [f"answer: {key} is yes, the reply does not say so"]
            if sv == "no" and not said_no:
                return [f"answer: {key} is no, the reply does not say so"]
            return []
        if not self._gives(low, key, value):
            return [f"answer: the {key} {value} is not given"]
        return []

    def _gives(self, low: str, key: str, value) -> bool:
        if key == "price":
            return any(abs(v - float(value)) < 0.01 for v, _, _ in _numbers(low))
        sv = str(value).lower()
        if sv in ("yes", "no"):
            return False
        forms = {sv, sv.replace(" ", "")} | {_lower(f) for f in self._zh_value(key, str(value))}
        return any(f and (f in low.replace(" ", "") or f in low) for f in forms)

    @staticmethod
    def _zh_no(key: str) -> str:
        """The store's Chinese word for "no" of a yes/no property (防水 → 透气), as data."""
        found = Judge._zh_value(key, "no")
        return found[0] if found and found[0] != "no" else "否"

    @staticmethod
    def _zh_value(key: str, value: str) -> tuple[str, ...]:
        try:
            from daogou.generate import glossary
        except ImportError:  # pragma: no cover
            return ()
        return (glossary.value_zh(key, value),)
