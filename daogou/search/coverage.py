"""Does the store sell what the query asks for? A query's words against the catalog's own words.

Hybrid search always returns *something*: the dense half has a nearest neighbour for any text. A shopper who asks
for "bathroom fans" in a store without any must be told so, not shown phone cases. :func:`coverage` reads the
query's free text the way BM25 does (jieba for Chinese, Snowball stems for the rest), drops filler and stop words
in both languages, and asks which of the remaining words the catalog uses anywhere:

- **nothing of it** (no content word in the catalog, and no brand, category or value understood): the store sells
  none of this ("bathroom fans", "电饭煲", "dog food for a puppy");
- **a known word followed by an unknown head** ("yoga *pants*", "kitchen *scale*", "瑜伽*裤*"): the shopper names
  a kind of product the store does not sell, described by a word it does use. English and Chinese put the head of
  a noun phrase last, so only an unknown word right after a known one, ending the phrase, counts.

A query with no content words at all ("something nice", "under 300") is not a miss: there is nothing to miss; nor is
one with more than :data:`MAX_NAME_WORDS` unknown ones, which describes a person or a use rather than naming a
product ("my uncle loves to cook, always trying out new recipes"): search gets to read it.
The rule errs towards "matched": a word anywhere in a product's text covers it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from bm25s.stopwords import STOPWORDS_EN_PLUS

from daogou.search.vocab import CJK_RE, spans

# Words that carry no product in English shopping talk: function words, requests, recipients, occasions.
_FILLER_EN = frozenset("""
a an the and or but nor so yet of for to in on at by with without from into onto about over under up down off out
as than then too very just only also even still again ever really quite rather more most less least much many
any some each every all both either neither no not none nothing other others another else such own same
i i'm im me my mine myself we us our you your yours u ur he him his she her hers it its they them their theirs
this that these those there here what which who whom whose when where why how whats what's
is am are was were be been being do does did doing done have has had having got get gets getting give gimme
can could would should will shall may might must need needs needed want wants wanted wanna gonna gotta tryna
looking look looks find finding search searching show see buy buying purchase order shop shopping sell sells
selling carry carries stock stocks available availability have any
please pls plz thanks thank thx ok okay hey hi hello hmm um uh yeah yes yep nope well maybe actually
like love prefer something anything stuff thing things one ones kind kinds type types sort option options
good nice great best better cool decent proper real new cheap cheaper affordable budget price prices cost costs
gift gifts present presents idea ideas birthday christmas anniversary holiday
mom mum mother dad father parents wife husband gf bf girlfriend boyfriend sister brother son daughter kid kids
child children friend friends boss grandpa grandma grandmother grandfather family partner someone somebody
lol pls rn tho though asap urgently quickly soon today tomorrow instead whatever dunno idk nah eh bit lower higher
fine keep first pricey pricier expensive equipment gear accessories accessory items item products product supplies
essentials thats size sizes colour color colours colors material style set sets pair pairs pack packs piece pieces
guys possible if lover lovers enthusiast enthusiasts fanatic beginner beginners person people likes loves enjoys
junkie junkies addict addicts nerd nerds geek geeks buff buffs freak freaks fiend fiends
broke broken died dead worn wore torn ripped cracked lost stolen apart stopped working leaking leaks replace
replacement replacing
women woman womens women's ladies lady men man mens men's boys boy girls girl unisex adult adults teen teens teenager
""".split()) | frozenset(STOPWORDS_EN_PLUS)

# The same in Chinese, as jieba cuts it (its accurate mode).
_FILLER_ZH = frozenset("""
我 我们 你 你们 他 她 它 他们 的 地 得 了 着 过 吗 呢 吧 啊 呀 哦 嗯 哈 嘛 呗 啦 么 和 与 及 或 或者 还是 跟 同
想 想要 要 需要 买 买个 买点 买些 购买 给 送 送给 帮 帮我 找 找个 看 看看 看下 看一下 一下 来 来个 来点 推荐 有 有没有
没有 有卖 卖 卖不卖 是 是不是 在 这 那 这个 那个 这种 那种 一个 一件 一款 一些 个 款 件 点 一点 些 请 请问 麻烦
谢谢 好的 好 可以 能 能不能 行 算了 还有 其他 别的 也 都 就 再 又 还 很 太 更 最 比较 非常 什么 啥 哪 哪个 哪些 怎么
迷 控 达人 爱好者 发烧友 狂 党
多少 东西 商品 产品 礼物 生日 老婆 老公 女朋友 男朋友 妈妈 爸爸 父母 宝宝 孩子 儿子 女儿 朋友 家人 老人 自己 店里
本店 你们家 家 便宜 实惠 好看 不错 合适 适合 用 用的 都行 就行 就好 太贵 贵 有点 改成 清楚 不清楚 以内 以下 左右 按
我想 我要 想买 想买个 喜欢 爱 送人 尽快 马上 急 急用 其实 换 换成 不要 别 用品 装备 配件 知道 不知道 有货 现货 货 一双 双 一套 套
套装 组合 组合装 系列 款式 一款 一个 一件
坏 坏了 丢 丢了 破 破了 旧 旧的 用坏 用坏了 不能用 不能用了 换个 换新 新的
""".split())


FILLER = _FILLER_EN | _FILLER_ZH  # for callers that keep a message's content words


@dataclass(frozen=True)
class Coverage:
    matched: bool                                       # False: the store sells none of what the query asks for
    unmatched: tuple[str, ...] = ()                     # the query's content words the catalog never uses
    phrase: str = ""                                    # what the shopper asked for, in their words ("bathroom fans")


MATCHED = Coverage(True)
MAX_NAME_WORDS = 4  # a product is named in a few words; more content words than this describe a person or a use


Departments = Callable[[str], tuple[frozenset[str], bool]]


def coverage(text: str, known: dict[str, str], structured: bool, in_catalog: Callable[[str], bool],
             kind_word: Callable[[str], bool] | None = None, departments: Departments | None = None) -> Coverage:
    """``text``: the query's free text (``ParsedQuery.text``); ``known``: its words read as a brand, category or
    value, with that kind (``ParsedQuery.known``); ``structured``: whether a brand, category or value was understood
    at all; ``in_catalog(word)``: whether the catalog uses ``word`` (a query word, lower case).

    What a product is *for* is not the product: in "dash cam for my car" or "protein powder, 健身用" the need is
    before the purpose, so only that part is judged (the whole message when the need has no words of its own)."""
    norm = unicodedata.normalize("NFKC", text).lower()
    words = _content(norm)
    if not words:
        return MATCHED
    spans_ = {kind: _known_spans(norm, [w for w, k in known.items() if k == kind]) for kind in _KINDS}
    purpose = [m.span() for m in _PURPOSE.finditer(norm)]
    need = [w for w in words if not _inside(w[1], w[2], purpose)]
    if need and purpose:
        words = need
        spans_ = {kind: [sp for sp in v if not _inside(sp[0], sp[1], purpose)] for kind, v in spans_.items()}
        structured = any(spans_.values())
    every = [sp for v in spans_.values() for sp in v]
    covered = [_known(w, in_catalog) or _inside(s, e, every) for w, s, e in words]
    if not any(covered) and not structured:
        if len(words) > MAX_NAME_WORDS:  # a description ("my uncle loves to cook, always trying new recipes"), not
            return Coverage(True, tuple(w for w, _, _ in words))  # a name: left to search, never "not sold"
        return Coverage(False, tuple(w for w, _, _ in words), _surface(text, words[0][1], words[-1][2]))
    head = _unknown_head(norm, words, covered, spans_["category"], in_catalog)
    if head is None and kind_word is not None:
        head = _unsold_head(norm, words, spans_, purpose, kind_word)
    if head is None and departments is not None:
        head = _compound_clash(norm, words, spans_, purpose, departments, in_catalog)
    if head is not None:
        start, end, word = head
        return Coverage(False, (word,), _surface(text, start, end))
    return Coverage(True, tuple(w for (w, _, _), c in zip(words, covered) if not c))


# words that end a noun phrase without naming the thing ("a set of 6", "the foldable kind") or describe it after
# its name ("yoga mat, thick"): never the head of a need
_NOT_HEAD = frozenset("""set sets kit kits pack packs bundle bundles pair pairs pcs piece pieces size sizes kind kinds
type types version model models style thing things one ones stuff option options ideally preferably please
warm cool soft hard thick thin plain cute pretty nice big small tiny huge light dark bright fast slow long short
tall wide narrow heavy new old good great best cheap decent quality sturdy durable stylish comfy cosy cozy
foldable washable breathable adjustable portable reusable wireless""".split())
_ADJ_END = re.compile(r"(?:ful|ous|ish|ive|less|ly)$")
_CLAUSE_CUT = re.compile(r"[,.;:!?，。；：！？、()（）]|(?<![a-z])(?:that|thats|that's|which|who|with|if|but|so|and|or|"
                         r"plus|also|for|to|in|on|under|below|over|above|around|about|from|by|without)(?![a-z])")


def _unsold_head(norm: str, words: list[tuple[str, int, int]], spans_: dict[str, list[tuple[int, int]]],
                 purpose: list[tuple[int, int]], kind_word: Callable[[str], bool]) -> tuple[int, int, str] | None:
    """The head of the need when it names no kind the store sells: the last word of the need's first phrase, in
    English, when that phrase names none of the store's kinds, values or brands at its end ("do you sell laptops?":
    "laptop" is only ever said of the store's laptop *backpacks*; "jigsaw puzzles? 1000 pieces"; "a baby stroller
    that's light"). A phrase that names a category is left to :func:`_unknown_head` (an unknown word after a kind
    describes it or is a compound it judges)."""
    if any(not _inside(a, b, purpose) for kind in ("category", "brand") for a, b in spans_[kind]):
        return None  # a kind or brand of the store named as the need: judged by _unknown_head
    phrase, end = _first_phrase(norm, words, purpose)
    if not phrase:
        return None
    start = phrase[0][1]
    if any(CJK_RE.match(w) for w, _, _ in phrase) or any(s < end and start < e for s, e in spans_["category"]):
        return None
    for word, s, e in reversed(phrase):
        if any(a <= s < b for kind in ("value", "brand") for a, b in spans_[kind]):
            return None  # the phrase ends on a value or brand of the store ("wine glasses": glass)
        if word in _NOT_HEAD or _ADJ_END.search(word):
            continue
        return None if kind_word(word) else (start, e, word)
    return None


def _first_phrase(norm: str, words: list[tuple[str, int, int]],
                  purpose: list[tuple[int, int]]) -> tuple[list[tuple[str, int, int]], int]:
    """The need's first phrase: its words up to the first clause break, outside what it is for; and where the
    clause ends."""
    need = [w for w in words if not _inside(w[1], w[2], purpose)]
    if not need:
        return [], 0
    cut = _CLAUSE_CUT.search(norm, need[0][2])
    end = cut.start() if cut else len(norm)
    return [w for w in need if w[1] >= need[0][1] and w[2] <= end], end


def _compound_clash(norm: str, words: list[tuple[str, int, int]], spans_: dict[str, list[tuple[int, int]]],
                    purpose: list[tuple[int, int]], departments: Departments,
                    in_catalog: Callable[[str], bool]) -> tuple[int, int, str] | None:
    """A compound whose words name the store's kinds but not together: an accessory or a variant of one kind named
    after another ("backpack rain cover", "yoga mat bag", "dress shoes", "face mask sheets": the modifier is a kind
    of one department, the head of another), or a store's category said before a word that names no kind
    ("running shorts": shorts only ever describe sleeves here). Kinds of one department go together ("phone
    case", "smartphone charger"); what a kind is for ("running socks", "hiking backpack") is not a kind."""
    phrase, _ = _first_phrase(norm, words, purpose)
    if not phrase or any(CJK_RE.match(w) for w, _, _ in phrase):
        return None
    i = len(phrase) - 1
    while i > 0 and (phrase[i][0] in _NOT_HEAD or _ADJ_END.search(phrase[i][0])):
        i -= 1
    head, h_start, h_end = phrase[i]
    if any(a <= h_start < b for kind in ("value", "brand") for a, b in spans_[kind]):
        return None
    j = i
    while j > 0 and not norm[phrase[j - 1][2]:phrase[j][1]].strip(" -"):
        j -= 1
    if j == i:
        return None
    head_depts, head_named = departments(head)
    modifiers = [departments(w) for w, _, _ in phrase[j:i]]
    if head_depts:
        clash = any(named and depts and not depts & head_depts for depts, named in modifiers)
    elif any(a <= h_start < b for a, b in spans_["category"]):
        clash = False  # the compound is a kind's own name ("face wash")
    elif not in_catalog(head):  # a word the catalog never uses after a kind, naming the need: "sock drawer organiser"
        clash = j == 0 and not head_named and any(depts for depts, _ in modifiers)
    else:  # the head names no kind: after a category's word that is not itself a product's name
        clash = not head_named and any(depts for depts, _ in modifiers) and not any(named for _, named in modifiers)
    return (phrase[j][1], h_end, head) if clash else None


_KINDS = ("brand", "category", "value")
_PARTICLES = "要有的吗呢吧了是在给也都还就很能可会"  # jieba sometimes glues one to a word: 徒步/鞋要/防水, 户外/鞋有


def _known(word: str, in_catalog: Callable[[str], bool]) -> bool:
    """Whether the catalog uses ``word``, or (Chinese) the word without a particle jieba glued to it."""
    if in_catalog(word):
        return True
    if CJK_RE.match(word):
        bare = word.strip(_PARTICLES)
        return bool(bare) and bare != word and in_catalog(bare)
    return False


_CLAUSE = r"[^,.;:!?，。；：！？、\n]"
# "for my car", "to go with my phone", "compatible with …"; "健身用", "给老公理发用", "适合跑步", "用于露营"
_PURPOSE = re.compile(rf"(?<![a-z])(?<!looking )(?<!lookin )(?<!searching )(?<!shopping )(?<!hunting )(?<!ask )"
                      rf"(?:for|to go with|that fits?|compatible with|suitable for)(?![a-z]){_CLAUSE}*"
                      rf"|(?:适合|用于|适用于){_CLAUSE}*|给{_CLAUSE}*?用(?={_CLAUSE}*$|[,.;:!?，。；：！？、])"
                      rf"|(?<=[,.;:!?，。；：！？、\s])[^\s,.;:!?，。；：！？、]+用(?=$|[,.;:!?，。；：！？、\s])"
                      rf"|^[^\s,.;:!?，。；：！？、]+用$")


def content_words(text: str) -> list[str]:
    """The words of ``text`` that could name a product (no filler, no stop word, no number)."""
    return [w for w, _, _ in _content(unicodedata.normalize("NFKC", text).lower())]


def unknown_names(text: str, outside: list[tuple[int, int]], in_catalog: Callable[[str], bool]) -> list[str]:
    """The words of ``text`` outside the spans ``outside`` (of its NFKC, lower-cased form) that could name a
    product and that the catalog never uses: "earplugs" in "earplugs for sleeping", "跑步机" (a word that only
    begins with the span 跑步). Describing words ("something warm") are not names."""
    norm = unicodedata.normalize("NFKC", text).lower()
    outside = [*outside, *(m.span() for m in _OCCASION.finditer(norm))]
    return [w for w, s, e in _content(norm) if not any(a <= s and e <= b for a, b in outside)
            and w not in _NOT_HEAD and not _ADJ_END.search(w) and not _known(w, in_catalog)]


# when or where a need arises, said after the need: "on the commute", "at the office", "during my runs", "在路上"
_OCCASION = re.compile(r"(?<![a-z])(?:on|at|during|while|after|before|in)\s+(?:the|my|his|her|our|their|a|an|work|"
                       r"school|home)(?:\s+[a-z]+){0,2}(?=\s*(?:$|[,.;:!?]))|(?:在|上下班|通勤)[^\s,，。.!?！？]{0,6}(?:路上|的时候|时)")


def _content(norm: str) -> list[tuple[str, int, int]]:
    """(word, start, end) of the words of ``norm`` (NFKC, lower case) that could name a product: no filler, no stop
    word, no number."""
    out = []
    for w, s, e, cjk in spans(norm):
        if (w in _FILLER_ZH) if cjk else (w in _FILLER_EN or w.strip("'’") in _FILLER_EN
                                           or (w.endswith("in") and w + "g" in _FILLER_EN)):  # "lookin"
            continue
        if not cjk and (len(w) < 2 or any(ch.isdigit() for ch in w)):
            continue  # sizes, amounts and model numbers (42, 6.1, 205/55, r16, e27) are not kinds of product
        out.append((w, s, e))
    return out


_PHRASE_END = re.compile(r"\s*(?:$|[,.;:!?，。；：！？、()（）\u4e00-\u9fff]|(?:for|with|that|which|to|in|on|under|below|"
                         r"over|above|around|about|from|by|and|or|but|without|less|more|max|min|up)(?![a-z]))")


_CJK_SUFFIX = frozenset("子儿们码号型款式类装品")  # 鞋子, 袜子, 鞋码, 包装: the kind itself, or about it
_CLAUSE_END = re.compile(r"\s*(?:有吗|有没有|有木有|吗|呢|吧|啊|呀|哦)?\s*(?:[,.;:!?，。；：！？、]|$)")


def _unknown_head(norm: str, words: list[tuple[str, int, int]], covered: list[bool],
                  categories: list[tuple[int, int]], in_catalog: Callable[[str], bool]) -> tuple[int, int, str] | None:
    """An unknown word right after a known one, ending its phrase, in a query that names no other kind of product:
    "yoga pants", "kitchen scale", "瑜伽裤", and a Chinese word whose start is a word of the store and whose end is
    not ("羽绒服": 羽绒 + 服) → (the span, the unknown word). With another kind named the unknown word describes it
    ("运动鞋，针织鞋面": knit uppers of running shoes) and is not a miss."""
    for i, (word, start, end) in enumerate(words):
        if covered[i]:
            continue
        cjk = CJK_RE.match(word) is not None
        if cjk and not categories and norm[:start].rstrip().endswith("的") and _CLAUSE_END.match(norm, end) \
                and word[-1] not in _CJK_SUFFIX:
            return start, end, word  # "夏天用的防晒(有吗)": the word after 的 that ends the phrase is what is asked for
        if cjk and len(word) >= 3 and word[-1] not in _CJK_SUFFIX and any(in_catalog(word[:k]) for k in range(2, len(word))):
            b_start, b_end = start, start
        elif cjk and len(word) == 2 and word[1] not in _CJK_SUFFIX and (start, start + 1) in categories:
            b_start, b_end = start, start  # "鞋带", "鞋垫": a one-character kind and what it is not
        elif i == 0 or not covered[i - 1]:
            continue
        else:
            before, b_start, b_end = words[i - 1]
            gap = norm[b_end:start]
            if (cjk and gap) or gap.strip(" -") or cjk != (CJK_RE.match(before) is not None):
                continue  # not one compound: something between them, or a script change ("耳机 case")
            if not cjk and (len(word) < 3 or (len(word) >= 5 and word.endswith("ly"))):
                continue  # "backpack ideally": an adverb, not a head
        gap = norm[end:words[i + 1][1]] if i + 1 < len(words) else ""
        if i + 1 < len(words) and not covered[i + 1] and not gap.strip(" -") and not (cjk and gap.strip(" -") != gap):
            continue  # an unknown compound goes on ("wine glass holder"): judged by its last word (a space ends a
                      # Chinese one: "无线鼠标 静音的")
        if not cjk and not _PHRASE_END.match(norm, end):
            continue
        same = norm[b_start:b_end]
        if any(not (s <= b_start < e or b_start <= s < b_end) and norm[s:e] != same for s, e in categories):
            continue  # another kind of product is named
        return b_start, end, word
    return None


def _known_spans(norm: str, known: list[str]) -> list[tuple[int, int]]:
    out = []
    for said in known:
        said = unicodedata.normalize("NFKC", said).lower()
        i = norm.find(said) if said else -1
        while i >= 0:
            out.append((i, i + len(said)))
            i = norm.find(said, i + 1)
    return out


def _inside(start: int, end: int, spans_: list[tuple[int, int]]) -> bool:
    return any(s <= start and end <= e for s, e in spans_)


def _surface(text: str, start: int, end: int) -> str:
    return unicodedata.normalize("NFKC", text)[start:end].strip()

