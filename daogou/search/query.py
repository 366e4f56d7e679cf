"""Query understanding: a shopper's query (English, Chinese or both) → free text plus structured constraints.

Order of work on the query: clean it (control characters, NFKC, whitespace), take out price phrases ("under
¥300", "300到500元"), then sort words ("cheapest", "最便宜"), then find the store's vocabulary in what is left
(:meth:`Vocabulary.find`, longest match first). A brand, value or category right after a negation cue ("不要",
"not", "without", …) is excluded, and so is one joined to it by "or"/"和"/"、". Weak values (numbers, one- or
two-letter values) count only next to their key ("size 42", "42码", "XL号"). Attribute values that never occur in
the query's categories are dropped. With no category from the vocabulary, an optional embedding
``category_matcher`` may supply one (similarity ≥ :data:`CATEGORY_MATCH_MIN`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from daogou.errors import ValidationError
from daogou.search.currency import DEFAULT_RATES
from daogou.search.lexical import analyze
from daogou.search.normalize import normalise_query
from daogou.search.typos import correct_typos
from daogou.search.vocab import VocabMatch, Vocabulary, is_cjk, jieba_word

MAX_QUERY_CHARS = 2000
CATEGORY_MATCH_MIN = 0.5  # an embedding category match counts from this cosine similarity up
GENERAL_KEY_SHARE = 0.5   # keys in at least this share of leaf categories (color, size, …) need no category

_CURRENCIES = {"$": "USD", "us$": "USD", "usd": "USD", "dollar": "USD", "dollars": "USD", "美元": "USD", "美金": "USD",
               "刀": "USD", "hk$": "HKD", "hkd": "HKD", "港币": "HKD", "港元": "HKD", "¥": "CNY", "rmb": "CNY",
               "cny": "CNY", "yuan": "CNY", "kuai": "CNY", "元": "CNY", "块": "CNY", "块钱": "CNY", "人民币": "CNY",
               "€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR", "欧元": "EUR", "欧": "EUR", "£": "GBP",
               "gbp": "GBP", "pound": "GBP", "pounds": "GBP", "quid": "GBP", "英镑": "GBP", "yen": "JPY",
               "jpy": "JPY", "日元": "JPY", "bucks": "", "buck": ""}  # "bucks": money in the store's own currency
_PRE = r"(?:us\$|hk\$|\$|¥|€|£|(?:rmb|cny|usd|eur|gbp|hkd)(?![a-z]))"
_POST = (r"(?:(?:rmb|cny|yuan|kuai|usd|dollars?|bucks?|eur|euros?|gbp|pounds?|quid|hkd|yen|jpy)(?![a-z])|块钱|块|元|"
         r"美元|美金|刀|人民币|欧元|欧|英镑|港币|港元|日元|¥|€|\$|£)")
_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_MUL = r"(?:\s?k(?![a-z])|千|万)"
_UNIT_AFTER = (r"(?![a-z0-9%]|\s?(?:码|号|岁|寸|件|片|双|口|毫升|升|克|斤|公斤|个|年|天|小时|分钟|套|瓶|支|只|条|张|人|米|厘米|"
               r"度|倍|层|周|月|期|款|色|w\b|l\b|gb|ml|mah|inch|in\b|cm|mm|pcs|pieces|pairs?|years?|yo\b))")
APPROX_WINDOW = 0.2  # "around 150": products within ±20% of the amount (120–180)


def _amount(tag: str) -> str:
    return (rf"(?P<{tag}pre>{_PRE})?\s?(?P<{tag}>{_NUM})(?P<{tag}mul>{_MUL})?"
            rf"(?:\s?(?P<{tag}post>{_POST}))?{_UNIT_AFTER}")


_A, _B = _amount("a"), _amount("b")
_FREE = r"(?<![a-z0-9$¥€£])(?<!\d,)(?<!\d\.)"  # an amount that starts a pattern is not the tail of a word or number
_EN_LEAD = r"(?<![a-z])(?:(?:price[ds]?|costs?|costing|priced at|for)\s+)?"  # "priced under 80" loses "priced"
_ZH_LEAD = r"(?:(?:价格|价钱|价位|售价|预算|花费|花)\s?)?(?:在|是|为|控制在|就)?\s?"
_EN_MAX = (r"nothing (?:over|above|more than|higher than|pricier than)|not (?:over|above|more than|higher than)|"
           r"no (?:more|higher|pricier) than|(?:can'?t|cannot|can not|won'?t|wont|don'?t want to|do not want to|"
           r"not willing to|not gonna|unwilling to|dont want to) (?:spend|pay|go) (?:more than|over|above|beyond|"
           r"past)|(?:spend(?:ing)?|pay(?:ing)?) (?:up to|at most|max(?:imum)?|no more than|under|less than)|"
           r"under|below|beneath|(?<!no )(?<!not )less than|cheaper than|lower than|up to|upto|max(?:imum)?\.?|"
           r"at most|"
           r"within|sub-?|capped at|cap(?:ped)? (?:of|at)|price cap(?: of| is)?|limit(?: of| is)?|"
           r"(?:my |the |a )?budget(?:'s| of| is| was|:| up to)?(?: (?:actually|now|really|just|only|more like))?|"
           r"i (?:only )?have|i'?ve (?:only )?got|make it|(?:can |could |i'?ll |will )?(?:go|stretch|push|spend) "
           r"(?:up )?to|(?:can |could )?go as high as|<=?|≤")
_EN_MAX_AFTER = (r"or less|or under|or below|or cheaper|or lower|and under|and below|and less|max(?:imum)?|at most|"
                 r"tops|top|at the most|(?:is |as )?(?:my |the )?(?:max|limit|budget|ceiling|cap)|budget|limit")
_ZH_MAX = (r"不超过|不高于|不要超过|别超过|不能超过|不可以超过|不想超过|不得超过|不要高于|别高于|不要贵于|(?<!不)低于|(?<!不)少于|小于|"
           r"不到|最多|最高|"
           r"顶多|至多|封顶|上限(?:是|为)?|预算(?:其实)?(?:是|在|为|只有|有|就|控制在|不超过)?|控制在|只有|就|"
           r"(?:提|加|放|降|调|改|涨|增加|提高|放宽|降低|减|压)到|最多能?(?:花|接受)|能接受|接受")
_ZH_MAX_AFTER = r"以内|以下|之内|内|封顶|为上限|是上限|顶天|左右以内|最多|上限|块以内|以内的"
_EN_MIN = (r"over|above|more than|greater than|higher than|at least|min(?:imum)?|starting (?:at|from)|from|"
           r"pricier than|north of|upwards of|no less than|not less than|not under|nothing under|>=?|≥")
_EN_APPROX = (r"around|about|roughly|approximately|approx\.?|circa|close to|near|somewhere (?:around|near)|"
              r"in the region of|ballpark|give or take|something like|more or less|~|≈")
_ZH_APPROX = r"大概|大约|差不多|约|估计|大致|左右是|~|≈"
# (kind, script the cue needs: "en" | "zh" | "" for none, pattern): a pattern is tried only when its script is there
_PRICE_PATTERNS: tuple[tuple[str, str, re.Pattern], ...] = tuple((kind, script, re.compile(p)) for kind, script, p in (
    ("range", "en", rf"{_EN_LEAD}(?:between|from|anywhere from|somewhere between)\s+{_A}\s*(?:and|to|-|~|or)\s*{_B}"),
    ("range", "", rf"{_ZH_LEAD}(?:介于)?{_FREE}{_A}\s*(?:-|~|to|至|到|和|与)\s*{_B}(?:\s?(?:之间|以内|区间|范围))?"),
    ("approx", "en", rf"{_EN_LEAD}(?<![a-z])(?:{_EN_APPROX})\s*{_A}"),
    ("approx", "", rf"{_ZH_LEAD}(?:{_ZH_APPROX})\s*{_A}(?:\s?(?:左右|上下))?"),
    ("approx", "zh", rf"{_FREE}{_A}\s*(?:左右|上下|出头|来块|多块|多元|多)"),
    ("approx", "en", rf"{_FREE}{_A}\s*(?:-?ish|or so|give or take|more or less|ballpark|range)(?![a-z])"),
    ("approx", "en", rf"(?<![a-z])in the\s+{_A}\s*(?:range|region|ballpark|bracket)"),
    ("max", "en", rf"{_EN_LEAD}(?<![a-z])(?:{_EN_MAX})\s*{_A}"),
    ("max", "zh", rf"{_ZH_LEAD}(?:{_ZH_MAX})\s*{_A}(?:\s?(?:以内|以下|之内|内|封顶)的?)?"),
    ("max", "zh", rf"{_FREE}{_A}\s*(?:{_ZH_MAX_AFTER})"),
    ("max", "en", rf"{_FREE}{_A}\s*(?:{_EN_MAX_AFTER})(?![a-z])"),
    ("min", "en", rf"{_EN_LEAD}(?<![a-z])(?:{_EN_MIN})\s*{_A}"),
    ("min", "zh", rf"{_ZH_LEAD}(?:(?<![不别])高于|(?<![不别要能想得])超过|大于|至少|不低于|不少于|最少|最低|起码)\s*{_A}"),
    ("min", "zh", rf"{_FREE}{_A}\s*(?:以上|起步|起|往上|打底|开外)"),
    ("min", "en", rf"{_FREE}{_A}\s*(?:or more|and up|and above|or above|or higher|or over|and over|plus|minimum|min)"
            rf"(?![a-z])"),
    # "$80+", "500+": a price with a currency or from 20 up ("8+" is an age)
    ("min+", "", rf"{_FREE}{_A}\s?\+(?!\s?(?:pcs|pieces|片|岁|years?|yrs?|yo|months?)(?![a-z]))"),
))
_SORTS = (
    ("price_asc", re.compile(r"(?<![a-z])(?:cheapest|lowest[ -]priced?|least expensive|lowest cost|low[ -]cost|"
                             r"(?:price )?low to high|not expensive|inexpensive|cheap|affordable|budget[ -]friendly|"
                             r"bargain|wallet[ -]friendly|economical)(?![a-z])|"
                             r"最便宜的?|(?<!不)便宜(?:一)?点的?|(?<!不)便宜些的?|(?<!不)便宜的|价格最低的?|最低价的?|(?:价格)?从低到高|不贵的?|"
                             r"最实惠的?|实惠(?:点|一点|些)?的?|平价的?|划算的?|低价的?|白菜价的?|(?<!不)便宜")),
    ("popular", re.compile(r"(?<![a-z])(?:(?:most |more )?popular(?:ity)?|best[ -]?sell(?:ing|ers?)|top[ -]?sell(?:ing|ers?)|"
                           r"(?:best|top|highest|well)[ -]rated|trending|what'?s hot|hot right now|(?:people|everyone|"
                           r"others|customers|shoppers) (?:buy|buys|bought|get|are buying|like|love)(?: the)? most|"
                           r"most (?:bought|purchased|ordered|sold|liked|loved)|(?:crowd|fan|customer) favou?rites?)"
                           r"(?: right now| these days| at the moment| lately| currently| this (?:season|year))?(?![a-z])|"
                           r"热销|热卖|卖得(?:最好|最多|好)|销量(?:最高|最好|最大|高|好)|最火|火爆|爆款|人气(?:最高|最旺|王|高)?|"
                           r"最受欢迎|受欢迎|好评(?:最多|如潮)|口碑(?:最好|好)|买的人(?:最)?多|大家都在买")),
    ("price_desc", re.compile(r"(?<![a-z])(?:most expensive|priciest|highest[ -]priced?|(?:price )?high to low|"
                              r"high[ -]end|premium|(?:pricey|pricier|expensive) (?:ones? )?first|top[ -]of[ -]the[ -]line|top[ -]end|luxury|luxurious|"
                              r"(?<!too )(?<!so )(?<!not )(?<!less )(?<!overly )expensive)(?![a-z])|最贵的?|价格最高的?|最高价的?|(?:价格)?从高到低|不便宜的?|贵(?:一)?点的|贵些的|贵的|高端的?|"
                              r"高档的?|奢华的?|顶配的?")),
)
_NEG_CUE = re.compile(r"(?:(?<![a-z])(?P<en>not|no|nothing(?: in)?|none in|without|w/o|non-?|except(?: for)?|excluding|exclude|other than|"
                      r"anything but|but not|nor|no more|avoid|skip|hate|don'?t like|dont want|don'?t want|forget(?: about)?|"
                      r"instead of|rather than|enough of|done with)"
                      r"(?:\s+(?:from|by|made by))?(?:\s+(?:the|any|a|an))?(?P<too>\s+(?:too|so|overly|super|that))?|(?P<zh>不想要|不需要|不要|不含|不是|不带|(?<!有)没有|没带|排除|除了|别(?![的人家处样款])|非|不喜欢|讨厌|(?<![要想需])不)"
                      r"(?:给我)?(?:推荐?|要|买|用|是|看|来|考虑|那种|这种)?(?:的)?)\s*$")
# a value said as not needed: "doesn't need to be waterproof", "不防水的也行": no constraint either way
_OPTIONAL_BEFORE = re.compile(r"(?<![a-z])(?:(?:doesn'?t|does not|don'?t|do not|needn'?t|need not|not)\s+(?:really\s+|"
                              r"necessarily\s+)?(?:need|have|has)\s+(?:it\s+|them\s+|one\s+)?to\s+be|no need (?:for|to be)|"
                              r"not necessarily|doesn'?t matter if (?:it'?s|they'?re)(?: not)?)\s*$", re.I)
_OPTIONAL_AFTER = re.compile(r"[^,，.。;；!！?？]*?(?:也行|也可以|也没关系|也没事|都行|无所谓|is fine too|are fine too|also fine|"
                             r"works too|is ok too|are ok too|doesn'?t matter)", re.I)
_TOO = re.compile(r"(?<![a-z])(?:(?:way|far|much|bit|little|rather|kinda|a bit|a little)\s+)?too\s*$|太(?=\S*$)")
_CONJ = re.compile(r"^\s*(?:,|，|、|/|or|and|nor|或者?|和|与|及|也不要|或者不要|or no|and no|or not)\s*$")
_AFTER_NEG = re.compile(r"\s*(?:以外|之外)?的?")
_NEG_AFTER = re.compile(r"(?:\s*(?:的|牌子的|家的)?\s*(?:就|也|都)?\s*(?:不要了?|不考虑了?|除外|算了|免了|pass掉?|别推了?|别给我推了?|太贵了?|"
                        r"排除(?:掉|了)?|去掉|删掉|拿掉|划掉|不看了?|(?:太|很|特别|有点)?(?:容易脏|不耐脏|显脏|难看|丑|土)了?|"
                        r"不好看|不喜欢)|"
                        r"(?:'s|’s)?\s*(?:is|are)?\s*(?:a no[- ]go|out|excluded|neither|either|nor)(?![a-z])"
                        r"(?:\s+(?:too|as well|either))?)"
                        r"(?=[\s,.;:!?~]*$|\s*[,.;:!?~]|(?<=[了吧])\s)", re.I)  # only when nothing follows: "X不要Y"
                        # excludes Y; "手机算了 看看充电器": 算了 ends its clause
# what a count of a key is said with after it: "charges 3 devices at once", "同时充三个设备", "2 口的"
_KEY_AFTER = {"ports": ("devices", "device", "gadgets", "things at once", "个设备", "设备", "个口", "口", "孔")}
_SIZE_BEFORE = ("size", "尺码", "码数", "鞋码", "尺寸")
_SIZE_AFTER = ("码", "号", "size")
_EDGE_JUNK = re.compile(r"^[\s的,，.。;；:：!！?？、/-]+|[\s的,，.。;；:：!！?？、/-]+$")


# "not over-ear", "without a hood", "不要头戴式的": a negated word the store knows as no brand or value
_NEG_WORDS = re.compile(r"(?:(?<![a-z])(?:not|no|without|but not|except|excluding|nothing)\s+|(?:不要|不想要|别(?![的人家处样款])|不含|不是)\s*)"
                        r"(?:an? |the |any )?(?P<w>[a-z][a-z-]{2,}(?: [a-z][a-z-]{2,})?|[\u4e00-\u9fff]{2,4}?)"
                        r"(?=的|[\s]*(?:$|[,.;:!?，。；：！？、)]|(?<![a-z])(?:and|or|but|like|please|pls|plz|just|"
                        r"ones?|stuff|kind|type|style)(?![a-z])))", re.I)
_SAID = re.compile(r" from '(.*)'$")  # the span a note of ParsedQuery.matched was read from
_NOT_A_THING = frozenset("""too sure idea more less over under than much really very that this wait problem problems
worries worry thanks rush budget need needed one ones matter hurry way clue preference preferences big biggie fuss
expensive cheap pricey fancy thing things longer shorter later""".split())


def _negated_words(text: str) -> tuple[str, list[str]]:
    """(``text`` without its negated phrases, the negated words): what a product must not say in its title."""
    words: list[str] = []
    for m in _NEG_WORDS.finditer(text):
        w = m.group("w").strip().lower()
        if not set(w.split()) & _NOT_A_THING and w not in ("什么", "太贵", "这个", "那个", "这种", "那种"):
            words.append(w)
    if not words:
        return text, []
    out = _NEG_WORDS.sub(lambda m: " " if m.group("w").strip().lower() in words else m.group(), text)
    return " ".join(out.split()), list(dict.fromkeys(words))


@dataclass
class ParsedQuery:
    text: str                                   # free text: the query minus price phrases, negated parts, sort words
    language: str                               # "en" | "zh" | "mixed"
    price_min: float | None = None
    price_max: float | None = None
    currency: str | None = None                 # from ¥/元/$/USD/RMB/… when named, else None
    categories: list[str] = field(default_factory=list)     # category paths (prefix paths allowed)
    brands: list[str] = field(default_factory=list)
    exclude_brands: list[str] = field(default_factory=list)
    attributes: dict[str, list[str]] = field(default_factory=dict)
    exclude_attributes: dict[str, list[str]] = field(default_factory=dict)
    sort: str | None = None                     # "price_asc" | "price_desc" | "popular" (most bought first) | None
    matched: list[str] = field(default_factory=list)        # what was understood, for explanations
    price_target: float | None = None           # "around 150": the amount (the bounds are a window around it)
    asked: dict | None = None                   # bounds as said in another currency, before conversion
    corrected: dict[str, str] = field(default_factory=dict)  # typos fixed against the store's words
    known: dict[str, str] = field(default_factory=dict)  # the query's words read as "brand", "category" or "value"
    sub_kinds_excluded: list[str] = field(default_factory=list)  # "not over-ear" of headphones: words of a form of the
                                                                 # kind asked for, left out (in ``exclude_words`` too)
    exclude_words: list[str] = field(default_factory=list)  # "not over-ear", "不要头戴式的": words products must not say

    def has_constraints(self) -> bool:
        return bool(self.price_min is not None or self.price_max is not None or self.categories or self.brands
                    or self.exclude_brands or self.attributes or self.exclude_attributes or self.sort)

    def mentions(self) -> list[tuple[str, str]]:
        """(what was understood, the words it was said with) for each note of :attr:`matched` that quotes the
        shopper ("category Shoes > Running from 'running shoes'" → ("category Shoes > Running", "running shoes"))."""
        return [(m.group("what"), m.group("said")) for m in map(_MENTION.match, self.matched) if m]


_MENTION = re.compile(r"^(?P<what>.*) from (?P<q>['\"])(?P<said>.*)(?P=q)$")  # how _note quotes what was said


@dataclass
class _Work:
    """The cleaned query, its lower-cased twin (same length) and which characters were taken out."""

    base: str
    low: str = ""
    removed: bytearray = field(default_factory=bytearray)

    def __post_init__(self) -> None:
        self.low = "".join(c.lower() if len(c.lower()) == 1 else c for c in self.base)
        self.removed = bytearray(len(self.base))

    def take(self, start: int, end: int) -> None:
        self.removed[start:end] = b"\x01" * (end - start)
        self.__dict__.pop("_view", None)

    def view(self) -> str:
        """The lower-cased query with taken-out characters blanked (kept until something more is taken)."""
        got = self.__dict__.get("_view")
        if got is None:
            got = self.__dict__["_view"] = "".join(" " if r else c for c, r in zip(self.low, self.removed,
                                                                                  strict=True))
        return got

    def rest(self) -> str:
        text = " ".join("".join(" " if r else c for c, r in zip(self.base, self.removed, strict=True)).split())
        text = re.sub(r"(?:(?<=\s)|^)的", " ", text)  # the 的 left by "500元以内的耳机"
        return " ".join(_EDGE_JUNK.sub("", text).split())


def parse_query(text: str, vocab: Vocabulary,
                category_matcher: Callable[[str], list[tuple[str, float]]] | None = None,
                rates: dict[str, float] | None = None, categories_hint: tuple[str, ...] = ()) -> ParsedQuery:
    """Understand ``text`` against the store's vocabulary. Raises :class:`ValidationError` ("query") for an empty,
    whitespace-only, over-long (> :data:`MAX_QUERY_CHARS`) or non-text query; a query with nothing searchable
    left after cleaning (emoji, control characters) gives an empty ParsedQuery. ``rates``: currency → value in a
    common unit (default :data:`daogou.search.currency.DEFAULT_RATES`), to convert amounts said in another currency.
    ``categories_hint``: the categories of the conversation so far, against which values are read when the message
    names no category ("slim fit" after T-shirts)."""
    base = normalise_query(_checked(text))
    base, corrected = correct_typos(base, vocab)
    work = _Work(base)
    pq = ParsedQuery(text="", language=_language(work.base, vocab), corrected=corrected)
    for wrong, right in corrected.items():
        _note(pq, f"typo {wrong!r} read as {right!r}")
    if not any(c.isalnum() for c in work.base):
        _note(pq, "nothing searchable in the query")
        return pq
    _prices(work, pq)
    _convert(pq, vocab, rates)
    _sort(work, pq)
    negated_paths = _entities(work, vocab, pq, categories_hint)
    pq.text, pq.exclude_words = _negated_words(work.rest())
    pq.exclude_words = list(dict.fromkeys([*pq.sub_kinds_excluded, *pq.exclude_words]))
    if pq.exclude_words:  # a word read inside a negated one ("ear" of "not over-ear") names nothing asked for
        def inside_negated(note: str) -> bool:
            m = _SAID.search(note)
            span = m.group(1).lower() if m else ""
            return bool(span) and any(span in w and span != w for w in pq.exclude_words)
        pq.matched = [m for m in pq.matched if not inside_negated(m)]
    for word in pq.exclude_words:
        _note(pq, f"exclude word {word!r}")
    if not pq.categories and not categories_hint and pq.attributes:
        _value_category(vocab, pq)
    if not pq.categories and category_matcher is not None and pq.text:
        _matcher_category(pq, category_matcher, negated_paths)
    return pq


# ---------------------------------------------------------------- cleaning

def _checked(text: object) -> str:
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationError("query", "not valid UTF-8") from None
    if not isinstance(text, str):
        raise ValidationError("query", f"expected text, got {type(text).__name__}")
    if len(text) > MAX_QUERY_CHARS:
        raise ValidationError("query", f"query too long ({len(text)} characters; at most {MAX_QUERY_CHARS})")
    if not text.strip():
        raise ValidationError("query", "empty query")
    return text


def _language(text: str, vocab: Vocabulary) -> str:
    """"zh" / "en" by script; "mixed" when neither has more than twice the other (a CJK word ≈ 2 characters)."""
    cjk = sum(1 for c in text if is_cjk(c))
    latin = len(re.findall(r"[a-zA-Z\u00c0-\u024f]{2,}", text))
    if not cjk and not latin:
        return vocab.language if vocab.language in ("en", "zh") else "en"
    if not latin or cjk / 2 > 2 * latin:
        return "zh"
    if not cjk or latin > 2 * (cjk / 2):
        return "en"
    return "mixed"


# ---------------------------------------------------------------- prices and sorting

def _number(m: re.Match, tag: str, mul: str | None = None) -> float:
    value = float(m.group(tag).replace(",", ""))
    mul = (m.group(tag + "mul") or mul or "").strip()
    return value * {"k": 1000.0, "千": 1000.0, "万": 10000.0}.get(mul, 1.0)


def _currency(m: re.Match) -> str | None:
    for g in ("apre", "apost", "bpre", "bpost"):
        sym = m.groupdict().get(g)
        if sym:
            return _CURRENCIES.get(sym.strip())
    return None


def _prices(work: _Work, pq: ParsedQuery) -> None:
    if not any(c.isdigit() for c in work.low):
        return  # every amount has digits by now (Chinese numerals and number words were normalised)
    scripts = {"", *(("en",) if re.search("[a-z<>≤≥]", work.low) else ()),
               *(("zh",) if any(is_cjk(c) for c in work.low) else ())}
    for kind, script, pattern in _PRICE_PATTERNS:
        if script not in scripts:
            continue
        for m in list(pattern.finditer(work.view())):
            currency = _currency(m)
            if kind == "min+" and currency is None and _number(m, "a") < 20:
                continue
            if kind == "range":
                hi = _number(m, "b")
                lo = _number(m, "a", m.group("bmul"))
                lo, hi = min(lo, hi), max(lo, hi)
                pq.price_min = lo if pq.price_min is None else max(pq.price_min, lo)
                pq.price_max = hi if pq.price_max is None else min(pq.price_max, hi)
            elif kind == "approx":
                target = _number(m, "a")
                pq.price_target = target
                pq.price_min = round(target * (1 - APPROX_WINDOW), 2)
                pq.price_max = round(target * (1 + APPROX_WINDOW), 2)
            elif kind == "max":
                hi = _number(m, "a")
                pq.price_max = hi if pq.price_max is None else min(pq.price_max, hi)
            else:
                lo = _number(m, "a")
                pq.price_min = lo if pq.price_min is None else max(pq.price_min, lo)
            pq.currency = pq.currency or currency or None
            work.take(m.start(), m.end())
            _note(pq, f"price {kind.rstrip('+')} from {m.group().strip()!r}")
    if pq.price_min is not None and pq.price_max is not None and pq.price_min > pq.price_max:
        pq.price_min, pq.price_max = pq.price_max, pq.price_min


def _convert(pq: ParsedQuery, vocab: Vocabulary, rates: dict[str, float] | None) -> None:
    """Bounds said in another currency than the catalog's are converted with the rate table (the amounts the
    shopper said are kept in ``asked``, so a reply can say "$80 ≈ ¥576")."""
    store = vocab.currency
    if not pq.currency or not store or pq.currency == store:
        return
    table = rates or DEFAULT_RATES
    if pq.currency not in table or store not in table:
        _note(pq, f"no rate for {pq.currency} → {store}; amounts taken as {store}")
        return
    rate = table[pq.currency] / table[store]
    pq.asked = {"currency": pq.currency, "price_min": pq.price_min, "price_max": pq.price_max, "rate": rate}
    pq.price_min = None if pq.price_min is None else round(pq.price_min * rate, 2)
    pq.price_max = None if pq.price_max is None else round(pq.price_max * rate, 2)
    pq.price_target = None if pq.price_target is None else round(pq.price_target * rate, 2)
    _note(pq, f"converted {pq.currency} to {store} at {rate:g}")


# "expensive" said as what it must not be: "nothing crazy expensive", "doesn't have to be super expensive"
_NOT_PRICEY = re.compile(r"(?<![a-z])(?:not|no|nothing|nothin'?|don'?t|doesn'?t|does not|do not|needn'?t|need not|"
                         r"isn'?t|never|without)(?:\s+(?:have|has|to|be|need|needs|too|so|that|super|crazy|very|overly|"
                         r"really|ridiculously|insanely|stupidly|mega|hugely|massively|wildly|too))*\s+$")


def _sort(work: _Work, pq: ParsedQuery) -> None:
    for order, pattern in _SORTS:
        for m in list(pattern.finditer(work.view())):
            if order == "price_desc" and m.group() in ("expensive", "pricey"):
                neg = _NOT_PRICEY.search(work.view(), 0, m.start())
                if neg is not None:  # a wish not to pay much, no order: the words are taken, nothing else read
                    work.take(neg.start(), m.end())
                    _note(pq, f"no sort from {work.base[neg.start():m.end()]!r}")
                    continue
            pq.sort = pq.sort or order
            work.take(m.start(), m.end())
            _note(pq, f"sort {order} from {m.group()!r}")


# ---------------------------------------------------------------- vocabulary entities

def _key_words(key: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Words naming ``key`` before / after a value ("size 42", "42码", "dry hair" for hair_type)."""
    name = key.replace("_", " ").lower()
    words = (name, *(w for w in name.split() if len(w) >= 3 and w != name))
    words += tuple(w[:-1] for w in words if w.endswith("s") and len(w) > 3)  # "3 port" names ports
    if "size" in name or "尺码" in name:
        return (*words, *_SIZE_BEFORE), (*words, *_SIZE_AFTER)
    return words, (*words, *_KEY_AFTER.get(name, ()))


def _key_named(view: str, c: VocabMatch, key: str) -> bool:
    """Whether the query names ``key`` right before or after the match."""
    before, after = view[:c.start].rstrip(" :：="), view[c.end:].lstrip()
    pre, post = _key_words(key)
    return any(before.endswith(w) and (len(before) == len(w) or not before[-len(w) - 1].isalnum()) for w in pre) \
        or any(after.startswith(w) and (is_cjk(w[0]) or len(after) == len(w) or not after[len(w)].isalnum())
               for w in post)


_SIZE_LETTERS = re.compile(r"X{0,3}[SML]|X{1,3}L|X{1,3}S")
_LIST_ITEM_BEFORE = re.compile(r"(?:^|[,，、;；]\s*|穿\s*|(?<![a-z])(?:in|an?)\s+)$")
_LIST_ITEM_AFTER = re.compile(r"\s*(?:$|[,，、;；.。!！?？])")


def _keyed(view: str, c: VocabMatch, base: str = "", vocab: Vocabulary | None = None) -> VocabMatch | None:
    """A weak value ("42", "M") is kept only with its key named next to it, or written exactly as the store writes
    it when that has a sign in it ("8+", '6.7"'), or (a size's letters) in capitals as an item of a list or after
    穿 ("grey, L", "男朋友穿L"), or (a size number) right after a kind sold in that size ("running shoes 42 or 43",
    "跑鞋 42的"); others pass unchanged."""
    if not c.weak:
        return c
    kinds = _kind_before(view, c.start, vocab) if vocab is not None and _SIZE_NUMBER.fullmatch(c.alias) else ()
    keep = tuple((k, v) for k, v in c.values if _key_named(view, c, k)
                 or (not v.isalnum() and view[c.start:c.start + len(v)] == v.lower())
                 or (_SIZE_LETTERS.fullmatch(v) and base[c.start:c.end] == v and _LIST_ITEM_BEFORE.search(base[:c.start])
                     and _LIST_ITEM_AFTER.match(base, c.end))
                 or (k == "size" and bool(kinds) and vocab is not None and vocab.value_in_categories(k, v, kinds)
                     and _SIZE_NUMBER_AFTER.match(view, c.end) is not None))
    return VocabMatch(c.start, c.end, c.alias, c.kind, values=keep, weak=True) if keep else None


# between a kind and its size number: nothing, a comma, or another size and "or" ("running shoes 42 or 43")
_SIZE_NUMBER_GAP = re.compile(r"[\s,，:：]*(?:(?:men'?s|women'?s|mens|womens|male|female|男款?|女款?|男士|女士)"
                              r"[\s,，:：]*)?(?:(?:in|in an?|in a size)\s+)?(?:\d{2}(?:\.5)?\s*(?:or|/|或|、|,|，|-|to)\s*)*$")
_SIZE_NUMBER = re.compile(r"\d{1,2}(?:\.\d)?")
# after a size number: the message ends or goes on to other words, not a unit, a count or money ("42 red running"
# is a size; "42 pieces", "42 euros" are not)
_SIZE_NUMBER_AFTER = re.compile(r"\s*(?:$|[,，.。!！?？;；、)]|的|码|号|(?:or|/|或|to|-)\s*\d|"
                                r"(?!(?:pcs|pieces?|pairs?|packs?|euros?|dollars?|usd|eur|gbp|hkd|yuan|rmb|bucks|quid|"
                                r"kuai|percent|times|items?|x)(?![a-z]))[a-z]{2,})")


def _kind_before(view: str, start: int, vocab: Vocabulary) -> tuple[str, ...]:
    """The category paths of a kind named right before ``start``, with only sizes and "or", or values of it
    ("hiking boots waterproof, mens 43"), between."""
    gap = _SIZE_NUMBER_GAP.search(view[:start])
    if gap is None:
        return ()
    end = gap.start()
    for m in reversed(vocab.find(view[:end])):
        if view[m.end:end].strip(" ,，、/&+") or m.weak:
            return ()
        if m.kind == "category":
            return m.paths
        if m.kind != "attribute":
            return ()
        end = m.start
    return ()


def _negation_start(view: str, gap_start: int, start: int, value: bool = True) -> int | None:
    """Where a negation cue right before ``start`` begins, if there is one."""
    m = _NEG_CUE.search(view, gap_start, start)
    if m is None and value:  # "that's too small": that value is what is wrong
        too = _TOO.search(view, gap_start, start)
        return too.start() if too else None
    if m is None or (m.group("too") and not value):  # "not too long" is said of a value, never of a kind or brand
        return None
    if m.group("zh") in ("别", "非"):  # not the 别 of 特别/别的 or the 非 of 非常/除非
        i = m.start("zh")
        nxt = view[i + 1:i + 2]
        if (i > 0 and jieba_word(view[i - 1:i + 1])) or (nxt not in "要买用是" and jieba_word(view[i:i + 2])):
            return None
    return m.start()


def _entities(work: _Work, vocab: Vocabulary, pq: ParsedQuery, hint: tuple[str, ...] = ()) -> set[str]:
    """Brands, categories and attribute values of the query; returns the negated category paths."""
    view = work.view()
    idioms = [m.span() for m in _IDIOM.finditer(view)]
    matches = vocab.find(view, keep=lambda c: None if any(a <= c.start < b for a, b in idioms)
                         else _keyed(view, c, work.base, vocab))
    prev_end, prev_neg, negated_paths, values = 0, False, set(), []
    negated_said: list[tuple[str, tuple[str, ...]]] = []
    matches = _heads(view, matches)
    prev_kind = ""
    for c in matches:
        cue = _negation_start(view, prev_end, c.start, c.kind == "attribute")
        neg = cue is not None or (prev_neg and c.kind == prev_kind and bool(_CONJ.match(view[prev_end:c.start])))
        after = _NEG_AFTER.match(view, c.end) if not neg else None
        if after:  # "Lunasoft的就不要了", "Korvo is a no-go"
            neg = True
            work.take(c.start, after.end())
        if neg:
            tail = _AFTER_NEG.match(view, c.end)
            work.take(prev_end if cue is None else cue, tail.end() if tail else c.end)
        said = work.base[c.start:c.end]
        pq.known.setdefault(said, c.kind if c.kind in ("brand", "category") else "value")
        if c.kind == "attribute" and (_OPTIONAL_BEFORE.search(view, prev_end, c.start)
                                      or (neg and _OPTIONAL_AFTER.match(view, c.end))):
            _note(pq, f"ignored {said!r} (said as not needed)")  # "doesn't need to be waterproof", "不防水的也行"
            work.take(c.start, c.end)
            prev_end, prev_neg, prev_kind = c.end, neg, c.kind
            continue
        if c.kind == "brand":
            _append(pq.exclude_brands if neg else pq.brands, c.brand)
            _note(pq, f"{'exclude ' if neg else ''}brand {c.brand} from {said!r}")
        elif c.kind == "category" and neg:
            negated_paths.update(c.paths)
            negated_said.append((said, c.paths))
            _note(pq, f"ignore negated category {' | '.join(c.paths)} from {said!r}")
        elif c.kind == "category" and hint and _POSSESSIVE.search(view[:c.start]) \
                and all(_hosts(path, hint) for path in c.paths):
            # "i drop my phone a lot" while phone cases are on show: the shopper's own phone, what they are for
            _note(pq, f"ignore category {' | '.join(c.paths)} of the shopper's own from {said!r}")
        elif c.kind == "category" and _CONTAINER.fullmatch(said.lower()) and (
                _SIZED_BEFORE.search(view[:c.start]) or _OF_AFTER.match(view, c.end)
                or (hint and not any(_same_or_under(p, hint) for p in c.paths))):
            # "biggest bottle pls" after shampoo, "a big bottle of shampoo": how much comes, not insulated bottles
            _note(pq, f"ignore category {' | '.join(c.paths)} said as a container from {said!r}")
        elif c.kind == "category" and not neg and pq.categories and prev_end and _POSSESSIVE.search(view[:c.start]) \
                and not any(_same_or_under(p, pq.categories) for p in c.paths):
            # "a charger that can do my phone and laptop": the shopper's own, what the kind named first is for
            _note(pq, f"ignore category {' | '.join(c.paths)} of the shopper's own from {said!r}")
        elif c.kind == "category" and _AT_PLACE.search(view[:c.start]) and all(" > " not in p for p in c.paths):
            # "pilates at home", "a chef at home", "works from home": a place, not the store's Home department
            _note(pq, f"ignore category {' | '.join(c.paths)} said as a place from {said!r}")
        elif c.kind == "category" and hint and prev_kind == "attribute" and not neg and not view[prev_end:c.start].strip() \
                and all(any(h == p or h.startswith(p + " > ") for h in hint) for p in c.paths):
            # "for dry hair" while shampoo is on show: the value's own word, not a new ask for all of Hair Care
            _note(pq, f"ignore category {' | '.join(c.paths)} of the topic after a value from {said!r}")
            if values and values[-1][0].end == prev_end:  # said with it: "dry hair", not "dry"
                vc, vneg, _, vcue = values[-1]
                values[-1] = (vc, vneg, work.base[vc.start:c.end], vcue)
        elif c.kind == "category":
            for path in c.paths:
                _append(pq.categories, path)
            _note(pq, f"category {' | '.join(c.paths)} from {said!r}")
        elif _OWN.search(view[:c.start]) and not neg:
            # "my old wooden ones cracked": what the shopper has, not what they want
            _note(pq, f"ignored {said!r} (the shopper's own)")
        else:
            values.append((c, neg, said, cue))
        prev_end, prev_neg, prev_kind = c.end, neg, c.kind
    pq.categories = [p for p in pq.categories if not any(q.startswith(p + " > ") for q in pq.categories)]
    pq.categories = _accessories_over_hosts(pq.categories)
    for c, neg, said, cue in values:
        _attribute(vocab, pq, view, c, neg, said, hint, work.base[cue:c.end] if cue is not None else said)
    for said, paths in negated_said:  # "headphones but not over-ear", "不要头戴式的耳机": a form of the kind asked for,
        kinds = pq.categories or list(hint)
        if kinds and all(_same_or_under(p, kinds) for p in paths):  # left out by its word ("no over-ear" after them)
            pq.sub_kinds_excluded.append(said.lower())
            negated_paths.difference_update(paths)
    return negated_paths


def _accessories_over_hosts(paths: list[str]) -> list[str]:
    """Of a category and the one whose name holds its name ("Phones" and "Phone Cases", "Cameras" and "Camera
    Bags"), the shopper means the second: "a pink phone case for my daughter, she just got her first phone" asks
    for a case. A shopper who wants the phone seldom names its case."""
    if len(paths) < 2:
        return paths
    leaf = {p: analyze(p.split(" > ")[-1]) for p in paths}
    hosts = {b for a in paths for b in paths
             if a != b and len(leaf[b]) == 1 and len(leaf[a]) > 1 and leaf[b][0] in leaf[a][:-1]}
    return [p for p in paths if p not in hosts]


def _hosts(path: str, others: tuple[str, ...]) -> bool:
    """``path``'s one-word leaf names what one of ``others`` is for ("Phones" for "Phone Cases")."""
    leaf = analyze(path.split(" > ")[-1])
    return len(leaf) == 1 and any(leaf[0] in analyze(o.split(" > ")[-1])[:-1] for o in others if o != path)


# Words of the store used in a sense that is not the store's: "every single night" names no size Single
_IDIOM = re.compile(r"(?<![a-z])(?:every single|not a single|a single (?:one|thing|time|day|penny|word|bit)|"
                    r"single (?:one|thing|time|day|night|morning|evening|week|penny|item|piece|word|bit|person|use)s?|"
                    r"double[- ]?check(?:ed|ing)?|double (?:the|as|up)|king of|queen of)(?![a-z])")
_OWN = re.compile(r"(?<![a-z])(?:my|our|his|her|their)\s+(?:old|current|previous|last|existing)\s+$|"
                  r"(?:我|我们|他|她)(?:的|那|之前的|以前的|原来的)(?:旧的?|老的?)?$")  # "my old wooden ones": had, not wanted
# what a product comes in: said with its size ("the biggest bottle", "a bottle of shampoo") it is no kind of product
_CONTAINER = re.compile(r"bottles?|jars?|tubes?|tubs?|boxe?s?|cans?|cartons?|pouch(?:es)?|sachets?|refills?")
_SIZED_BEFORE = re.compile(r"(?<![a-z])(?:big|bigg(?:er|est)|large|larg(?:er|est)|small(?:er|est)?|huge|tiny|mini|"
                           r"full[- ]size|travel[- ]size|family[- ]size|jumbo|value)\s+$")
_OF_AFTER = re.compile(r"\s+of(?![a-z])")


def _same_or_under(path: str, hint: Sequence[str]) -> bool:
    return any(path == h or path.startswith(h + " > ") or h.startswith(path + " > ") for h in hint)


_AT_PLACE = re.compile(r"(?<![a-z])(?:at|from|back|stay[- ]at|stuck at)\s+$")
_POSSESSIVE = re.compile(r"(?:(?<![a-z])(?:my|our|his|her|their|mine)\s+(?:(?:old|new|current|own|little)\s+)?|"
                         r"(?:我|我们|他|她)的?)$")
_FOR = re.compile(r"(?:(?<![a-z])(?<!looking )(?<!lookin )(?<!look )(?<!searching )(?<!shopping )(?<!hunting )"
                  r"(?<!asking )(?:for|fits?|fitting|compatible with|to go with|with)(?:\s+(?:my|a|an|the|your|his|her|"
                  r"our))?(?:\s+[\w.\"”'-]+){0,3}|适用于?|适合|配|给|去|用于|拿去)\s*$")  # "case for a 6.1 inch phone"


def _heads(view: str, matches: list[VocabMatch]) -> list[VocabMatch]:
    """Of categories named together, the one the shopper wants: in "running socks", "hiking backpack", "跑步袜" the
    last is the thing and the first describes it; in "case for my phone" the one after "for" is what it is for."""
    cats = [c for c in matches if c.kind == "category"]
    if len(cats) < 2:
        return matches
    drop = set()
    for a, b in zip(cats, cats[1:]):
        gap = view[a.end:b.start]
        if not gap.strip(" -") and not set(a.paths) & set(b.paths):
            drop.add(id(a))
    for c in cats:
        if id(c) not in drop and _FOR.search(view[:c.start]) and any(id(o) not in drop and o is not c for o in cats):
            drop.add(id(c))
    return [c for c in matches if id(c) not in drop]


def _attribute(vocab: Vocabulary, pq: ParsedQuery, view: str, c: VocabMatch, neg: bool, said: str,
               hint: tuple[str, ...] = (), negated: str = "") -> None:
    """Values must occur in the query's categories (or the conversation's, ``hint``); without a category, a one-word
    Latin value of a key that only some categories have ("all" of hair_type, "max" of cushioning) needs its key
    named ("max cushioning")."""
    if pq.categories or hint:
        values = [(k, v) for k, v in c.values if vocab.value_in_categories(k, v, pq.categories or hint)]
        if not values:  # "a medium" of a kind sized in letters (S / M / L) is its M
            letters = [SIZE_LETTER.get(v.lower()) for k, v in c.values if k == "size"]
            values = [("size", x) for x in letters if x and vocab.value_in_categories("size", x, pq.categories or hint)][:1]
        if not values:  # "bamboo socks": the kind's own value that begins with the word (bamboo fibre)
            longer = {(k, w) for k, v in c.values for w in vocab.key_values.get(k, ())
                      if w.lower().startswith(v.lower() + " ") and vocab.value_in_categories(k, w, pq.categories or hint)}
            values = sorted(longer) if len(longer) == 1 else []
        if not values and neg:  # "wood not plastic" of cutting boards: none is plastic, and none is to be
            cats = pq.categories or hint
            values = [(k, v) for k, v in c.values
                      if any(vocab.value_in_categories(k, w, cats) for w in vocab.key_values.get(k, ()))]
    else:
        plain_word = c.alias.isascii() and c.alias.isalpha()
        values = [(k, v) for k, v in c.values if not plain_word or vocab.key_share(k) >= GENERAL_KEY_SHARE
                  or c.alias == k.replace("_", " ").lower() or _key_named(view, c, k)]
    keys = {k for k, _ in values}
    if len(keys) > 1:  # "standard size", "size standard": the key named beside it decides
        named = [(k, v) for k, v in values if _key_named(view, c, k)]
        values, keys = (named, {k for k, _ in named}) if len({k for k, _ in named}) == 1 else (values, keys)
    if len(keys) != 1:
        why = "ambiguous: " + ", ".join(sorted(keys)) if keys else "not a value of the asked or a general category"
        _note(pq, f"ignored {said!r} ({why})")
        return
    if not neg and len(values) == 1:  # "65W or more", "at least 256GB", "30h+": every value of that amount or more
        values = _amount_bound(vocab, view, c, values[0], pq.categories or hint) or values
    if neg and all(v == "yes" for _, v in values) and all("no" in vocab.key_values.get(k, ()) for k, _ in values):
        # "without noise cancelling", "不带降噪的": those that say no, named with the words that said so
        values, neg, said = [(k, "no") for k, _ in values], False, (negated or said).strip()
    table = pq.exclude_attributes if neg else pq.attributes
    for k, v in values:
        _append(table.setdefault(k, []), v)
    _note(pq, f"{'exclude ' if neg else ''}{values[0][0]}={'|'.join(v for _, v in values)} from {said!r}")


_AT_LEAST = (re.compile(r"(?:(?<![a-z])(?:at ?least|min(?:imum)?(?: of)?|no less than|not less than)|>=|至少|最少|起码|不低于|"
                        r"不少于)\s*$"),
             re.compile(r"\s*(?:\+|or (?:more|above|higher|bigger|larger|better|up)(?![a-z])|and (?:up|above|over|more)"
                        r"(?![a-z])|plus(?![a-z])|at ?least(?![a-z])|minimum(?![a-z])|[及或]?以上|起步?|往上)"))
_MORE_THAN = (re.compile(r"(?:(?<![a-z])(?:more than|over|above|greater than|bigger than|better than)|>|超过|大于|高于)\s*$"),
              None)
_AT_MOST = (re.compile(r"(?:(?<![a-z])(?:at most|max(?:imum)?(?: of)?|no more than|not more than|up to)|<=|最多|不超过|"
                       r"不高于|不大于)\s*$"),
            re.compile(r"\s*(?:or (?:less|lower|smaller|under|below)(?![a-z])|and (?:under|below|less)(?![a-z])|"
                       r"[及或]?以下)"))
_LESS_THAN = (re.compile(r"(?:(?<![a-z])(?:less than|under|below|smaller than)|<|小于|低于)\s*$"), None)
_RANGE_LOW = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*(?:[a-z\"]{0,4}\s*)?(?:to|-|–|~|and|到|至)\s*$", re.I)
_BOUNDS = ((_AT_LEAST, lambda a, b: a >= b), (_MORE_THAN, lambda a, b: a > b), (_AT_MOST, lambda a, b: a <= b),
           (_LESS_THAN, lambda a, b: a < b))
_AMOUNT = re.compile(r"^(\d+(?:\.\d+)?)\s*([a-z\"]*)\+?$", re.I)
_SCALE = {"tb": ("gb", 1024.0)}


def _amount(value: str) -> tuple[float, str] | None:
    """(amount, unit) of a value that is an amount: "65W" → (65, "w"), "1TB" → (1024, "gb"), "3" → (3, "")."""
    m = _AMOUNT.match(value.strip())
    if m is None:
        return None
    unit, scale = _SCALE.get(m.group(2).lower(), (m.group(2).lower(), 1.0))
    return float(m.group(1)) * scale, unit


def _amount_bound(vocab: Vocabulary, view: str, c: VocabMatch, value: tuple[str, str],
                  categories: list[str] | tuple[str, ...]) -> list[tuple[str, str]] | None:
    """A value said as a bound ("65W or more", "at least 256GB", "超过30h", "up to 33W") → every value of its key
    (in the asked categories) whose amount lies within it, in the key's unit; None when it is not one. Sizes fit
    or do not, and an age is a toy's label ("8+", "8岁以上" name the 8+ toys): neither is read as a bound."""
    key, said = value
    amount = _amount(said)
    if amount is None or key in ("size", "age"):
        return None
    before, after = view[:c.start], view[c.end:]
    low = _RANGE_LOW.search(before)
    lower = _amount(low.group(1) + re.sub(r"^[\d.]+\s*", "", said)) if low else None
    within = next((test for (pre, post), test in _BOUNDS
                   if pre.search(before) or (post is not None and post.match(after))), None)
    if lower is not None and lower[1] == amount[1] and lower[0] < amount[0]:
        # "500 to 1000 pieces", "20-30L", "between 33 and 65W": every value from the first amount to the second
        within = lambda a, b, lo=lower[0]: lo <= a <= b  # noqa: E731
    if within is None:
        return None
    out = []
    for other in vocab.key_values.get(key, ()):
        a = _amount(other)
        if a is not None and a[1] == amount[1] and within(a[0], amount[0]) and \
                (not categories or vocab.value_in_categories(key, other, list(categories))):
            out.append((a[0], other))
    return [(key, v) for _, v in sorted(out)] or None


SIZE_LETTER = {"extra small": "XS", "small": "S", "medium": "M", "large": "L", "extra large": "XL",
                "x-large": "XL", "xx-large": "XXL"}  # size words → the letters clothing is sized in


def _value_category(vocab: Vocabulary, pq: ParsedQuery) -> None:
    """Values that only one category's products have name that category ("四件套", "ANC under 500")."""
    leaves: set[str] | None = None
    for key, values in pq.attributes.items():
        if vocab.key_share(key) >= GENERAL_KEY_SHARE:
            continue  # colour, size, material: every kind of product has them
        here = {leaf for v in values for leaf in vocab.attribute_categories.get((key, v), ())}
        leaves = here if leaves is None else leaves & here
    if leaves is not None and len(leaves) == 1:
        pq.categories = [next(iter(leaves))]
        _note(pq, f"category {pq.categories[0]} from its values")


def _note(pq: ParsedQuery, note: str) -> None:
    _append(pq.matched, note)


def _append(items: list[str], item: str) -> None:
    if item not in items:
        items.append(item)


def _matcher_category(pq: ParsedQuery, matcher: Callable[[str], list[tuple[str, float]]], negated: set[str]) -> None:
    ranked = [(str(p), float(s)) for p, s in matcher(pq.text) if p and str(p) not in negated]
    if ranked:
        path, sim = max(ranked, key=lambda ps: ps[1])
        if sim >= CATEGORY_MATCH_MIN:
            pq.categories = [path]
            _note(pq, f"category {path} from embeddings (similarity {sim:.2f})")
