"""Answers to a question about one product, from its attributes: "is it waterproof?" → "Yes — it is waterproof."

A question names attribute keys ("what sizes", "多大容量", "battery life") or values of the store ("is it leather?",
"防水吗", "in red?"). Each is looked up in the product's attributes: a value asked about is confirmed or denied
with the product's own value, a key asked about is answered with its value, and a key the product does not have
is answered honestly ("The listing doesn't say …") with a suggestion. Pure: no I/O, no models.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace

from daogou.catalog.models import Product
from daogou.search.normalize import normalise_query
from daogou.search.query import SIZE_LETTER
from daogou.search.typos import correct_typos
from daogou.search.vocab import BOOLEAN_WORDS, Vocabulary, is_cjk

# Words for common attribute keys, in English and Chinese; a store's own keys are also found by their names.
KEY_WORDS: dict[str, str] = {
    "color": r"colou?rs?|shades?|颜色|什么色|啥色|几个色|色系",
    "material": r"material|made (?:of|from|out of|with)|what'?s in it|whats in it|what is in it|fabric|what is it made|materials|ingredients?|材质|材料|面料|"
                r"什么做的|啥做的|什么材|成分",
    "size": r"\bsizes?\b|how big|dimensions?|fit me|ml\b|how much (?:liquid|product)|尺码|尺寸|大小|多大|几码|多少码|"
            r"码数|什么码|啥码|哪些码|哪个码|\d{2}(?:\.5)?\s*码|规格|多少毫升|几毫升|容量是多少毫升|多少ml",
    "waterproof": r"water ?proof|water-proof|rain|wet|防水|下雨|淋雨|怕水",
    "noise_cancelling": r"noise|anc\b|cancell?ing|降噪|隔音|噪音",
    "battery": r"battery|batteries|last on a charge|playtime|hours? of|lasts?(?: the)? long|long(?:est|er)[- ]lasting|"
               r"续航|电池|电量|用多久|最持久",
    "capacity": r"capacity|litres?|liters?|how much (?:can it|does it) (?:hold|fit)|how many l\b|\bholds?\b|"
                r"roomi(?:er|est)|fits? (?:the )?most|容量|多少升|几升|装得下|能装|装(?:得|的)?(?:最多|更多)",
    "power": r"watts?|wattage|power|how fast|fast charg|功率|多少瓦|几瓦|快充|充电速度",
    "ports": r"\bports?\b|how many (?:devices|things|plugs)|几口|几个口|接口|多少个口|几个接口|口的",
    "age": r"\bage\b|ages|how old|years? old|suitable for (?:kids|children)|年龄|几岁|多大的孩子|适合多大",
    "storage": r"storage|how much space|\bgb\b|存储|(?<!运行)内存|多少g|容量多大",
    "ram": r"\bram\b|memory|运行内存|运存",
    "pieces": r"pieces|pcs|how many (?:bricks|parts|blocks)|几件|多少片|几片|多少块|件套",
    "skin_type": r"skin(?: type)?|肤质|什么皮肤|适合.{0,4}皮|干皮|油皮|敏感肌",
    "hair_type": r"hair(?: type)?|发质|什么头发",
    "fit": r"\bfit\b|cut|修身|宽松|版型",
    "sleeve": r"sleeves?|袖",
    "length": r"length|how long is|mini|midi|maxi|长度|多长|裙长",
    "cushioning": r"cushion(?:ing|ed)?|缓震|减震",
    "grip": r"grip|slip|防滑|打滑",
    "pack": r"how many pairs|pairs?|pack|几双|多少双|几装|[几\d一二两三四五六七八九十]双装|装数|一包几",
    "height": r"height|ankle|crew|筒|高度",
    "feature": r"feature|shockproof|magnetic|防摔|磁吸|功能",
    "dishwasher_safe": r"dishwasher|洗碗机",
    "weight": r"weigh(?:s|t|ts|ing)?\b|heav(?:y|ier|iest)\b|light(?:er|est)\b|lightweight|重量|多重(?!要)|多沉|"
              r"(?:最|更)(?:轻|沉)|(?:最|更)重(?!要)|轻便|轻一点|轻点",
}
_KEY_RE = {k: re.compile(p, re.I) for k, p in KEY_WORDS.items()}
_SIZE_OF = re.compile(r"how big|多大|大小", re.I)  # "how big" is also said of a capacity, a battery, storage
_SIZE_NAMED = re.compile(r"\bsizes?\b|尺码|尺寸|几码|多少码|码数|什么码|规格", re.I)
_COMES_IN = re.compile(r"(?<![a-z])(?:comes?|available|avail) in(?![a-z])|有.{1,6}(?:码|号|色)的?吗", re.I)
_WHAT_EN = {"age": "which ages it suits", "pieces": "how many pieces it has", "pack": "how many come in a pack",
            "ports": "how many ports it has", "fit": "how it fits"}
YES_NO_KEYS = ("waterproof", "noise_cancelling", "dishwasher_safe")  # asked as yes/no where a store has no values
KEY_NAMES_ZH = {"color": "颜色", "material": "材质", "size": "尺码/规格", "waterproof": "防水", "noise_cancelling": "主动降噪",
                "battery": "续航", "capacity": "容量", "power": "功率", "ports": "接口数", "age": "适用年龄",
                "storage": "存储", "ram": "运行内存", "pieces": "件数", "skin_type": "适用肤质", "hair_type": "适用发质",
                "fit": "版型", "sleeve": "袖长", "length": "长度", "cushioning": "缓震", "grip": "防滑",
                "pack": "装数", "height": "袜筒", "feature": "特点", "dishwasher_safe": "可用洗碗机清洗", "weight": "重量"}


@dataclass(frozen=True)
class Answer:
    product_id: str
    key: str
    value: str | None     # the product's value; None: the listing does not say
    asked: str | None     # the value the question asked about ("is it leather?" → "leather"), if any
    verdict: str          # "yes" | "no" | "value" | "unknown"
    text: str

    def to_dict(self) -> dict:
        return asdict(self)


def asked(message: str, vocab: Vocabulary, paths: Sequence[str] = ()) -> tuple[list[str], list[tuple[str, str]]]:
    """(attribute keys named, (key, value) pairs named) in a question. With ``paths`` (the categories the question
    is about), a word the store's texts only suggest for a value ("bottle", mined as material=stainless steel from
    the kitchen's titles) names that value only where the value occurs: of a shampoo, "the biggest bottle" asks
    nothing about steel. A value's own name ("is it leather?") is asked anywhere."""
    text, _ = correct_typos(normalise_query(message), vocab)
    low = text.lower()
    values = []
    how = [m.span() for m in _HOW_LONG.finditer(low)]
    for c in vocab.find(text):
        if c.kind != "attribute" or any(a <= c.start and c.end <= b for a, b in how):
            continue  # "how long does the battery last": a question word, not the value "long"
        if paths:
            here = tuple(kv for kv in c.values if vocab.value_in_categories(*kv, paths))
            if ("attribute", c.alias) in vocab.mined or ("synonym", c.alias) in vocab.mined:
                c = replace(c, values=here)
            elif len({k for k, _ in c.values}) > 1:  # "slim": a fit of T-shirts, a feature of phone cases
                c = replace(c, values=here or c.values)
        if not c.weak:
            values += [kv for kv in c.values if kv[0] != "size" or not kv[1].isalnum() or kv[1].lower() in SIZE_LETTER]
        else:  # a size as the store writes it ('6.7"')
            values += [kv for kv in c.values if not kv[1].isalnum() and low[c.start:c.start + len(kv[1])] == kv[1].lower()]
    keys = [k for k, rx in _KEY_RE.items() if rx.search(low)]
    for key in vocab.key_values:
        name = key.replace("_", " ").lower()
        if key not in keys and len(name) >= 3 and re.search(rf"(?<![a-z]){re.escape(name)}(?![a-z])", low):
            keys.append(key)
    valued = {k for k, _ in values}
    if "size" in keys and len(keys) > 1 and _SIZE_OF.search(low) and not _SIZE_NAMED.search(low):
        keys.remove("size")  # "存储多大", "how big is the battery": how much of the other thing, not a size
    return [k for k in keys if k not in valued], values


def answer(product: Product, message: str, vocab: Vocabulary, lang: str) -> list[Answer]:
    """What the product's attributes say to the question (empty when it names no attribute)."""
    keys, values = asked(message, vocab, [" > ".join(product.category)] if product.category else ())
    attrs = {str(k): v for k, v in (product.attributes or {}).items()}
    if _value(attrs.get("length")) is not None and not _KEY_RE["sleeve"].search(message):
        # "is it long?" of a dress: its length; the sleeve only when the sleeve is said
        bare = [kv for kv in values if kv[0] == "sleeve" and kv[1].lower() in ("long", "short")]
        values = [kv for kv in values if kv not in bare]
        keys = [*keys, "length"] if bare and "length" not in keys else keys
    if not keys and not values and _COMES_IN.search(message):
        # "does it come in queen?": a value the store does not know; what the product comes in answers it
        keys = [k for k in ("size", "color", "colour") if _value(attrs.get(k)) is not None][:1]
    out: list[Answer] = []
    seen: set[str] = set()
    for key, value in [*values, *((k, None) for k in keys)]:  # values asked about, then keys
        if key in seen:
            continue
        seen.add(key)
        have = _value(attrs.get(key))
        if key == "size" and value is not None and have is not None and SIZE_LETTER.get(value.lower()) == have:
            value = have  # "got it in a medium?" of a dress sized M
        if have is None:
            out.append(Answer(product.id, key, None, value, "unknown", _unknown(key, value, vocab, lang)))
        elif value is not None:
            yes = have.lower() == value.lower()
            out.append(Answer(product.id, key, have, value, "yes" if yes else "no",
                              _confirm(key, have, value, yes, vocab, lang)))
        else:
            out.append(_stated(product.id, key, have, vocab, lang))
    size = _value(attrs.get("size"))
    if size is not None and "size" not in seen and any(a.verdict == "unknown" and a.key in _SIZE_LIKE for a in out):
        # "how much does it hold?" of a bottle sized Small / Medium / Large: no capacity, but its size is stated
        out.append(_stated(product.id, "size", size, vocab, lang))
    return out


_SIZE_LIKE = ("capacity", "storage", "weight", "length")  # a product's size says something of them
_HOW_LONG = re.compile(r"(?<![a-z])how (?:long|short)(?![a-z])")


# "which one has the longest battery?", "哪个容量最大": the shown product with the most (or least) of a quantity
_MOST = re.compile(r"(?<![a-z])(?:best|longest|most|biggest|largest|highest|greatest|max(?:imum)?|fastest|strongest|"
                   r"heaviest|roomiest|more|bigger|larger|longer|higher|faster|heavier)(?![a-z])|"
                   r"最(?:长|大|多|高|快|强|好|久|重(?!要)|沉)|更(?:长|大|多|高|快|强|久|重(?!要)|沉)", re.I)
_LEAST = re.compile(r"(?<![a-z])(?:least|smallest|shortest|lowest|lightest|min(?:imum)?|fewest|less|smaller|shorter|"
                    r"lower|lighter)(?![a-z])|最(?:短|小|少|低|轻)|更(?:短|小|少|低|轻)", re.I)
# Asking among the products on show: "which", "of these", "out of those", "the biggest one", "容量最大的那个"
_WHICH = re.compile(r"(?<![a-z])(?:which|what one|who|of (?:these|those|them|the lot|all)|out of (?:these|those|"
                    r"them|all)|among (?:these|those|them)|the one with|the [a-z]+est (?:one|model|option|pick)(?!s))"
                    r"(?![a-z])|^\W*(?:(?:and|or|what about|how about)\s+)?(?:the\s+)?(?:bigg|larg|small|long|short|"
                    r"light|heavi|roomi|few|great|high|low)est(?:\s+\S+){0,2}\W*$|"
                    r"哪(?:个|款|一个|一款|件|双)?|这几|这些|那几|里面|其中|当中|的那(?:个|款|件|双)", re.I)
# A quantity named only by its adjective ("the biggest one"): the keys it can mean, tried in order
_IMPLIED = ((re.compile(r"(?<![a-z])(?:big|bigg|large|larg|roomi|small|little|compact)(?:er|est|e)?(?![a-z])|[大小]",
                        re.I), ("capacity", "storage", "size", "pieces")),
            (re.compile(r"(?<![a-z])(?:long|short)(?:er|est)?(?![a-z])|[长短久]", re.I), ("battery", "length")),
            (re.compile(r"(?<![a-z])(?:fast|quick|powerful|strong)(?:er|est)?(?![a-z])|[快强]", re.I), ("power",)),
            (re.compile(r"(?<![a-z])(?:light|heavy|heavi)(?:er|est)?(?![a-z])|[轻沉]|重(?!要)", re.I), ("weight",)),
            (re.compile(r"(?<![a-z])fewe(?:r|st)(?![a-z])|(?:最|更)少(?!钱)", re.I),
             ("pieces", "ports", "pack")))
_NUMBER = re.compile(r"(\d+(?:\.\d+)?)\s*(?:(tb|gb|mb|kb|mah|ah|k)(?![a-z]))?", re.I)
_UNIT = {"tb": 1e12, "gb": 1e9, "mb": 1e6, "kb": 1e3, "k": 1e3, "ah": 1e3, "mah": 1.0}


def key_word_spans(message: str) -> list[tuple[int, int]]:
    """Where the message names an attribute key in words ("裙长", "how big"): a kind's word inside one (裙 of 裙长)
    names no kind."""
    low = message.lower()
    return [m.span() for rx in _KEY_RE.values() for m in rx.finditer(low)]


def has_values(product: Product, wanted: Mapping[str, Sequence[str]]) -> bool:
    """Whether ``product`` has every wanted value (one of each key's, case aside)."""
    return all(str((product.attributes or {}).get(key, "")).lower() in {v.lower() for v in values}
               for key, values in wanted.items())


def superlative(message: str) -> str | None:
    """"max" / "min" for a question asking which shown product has the most / least of something, else None."""
    if not _WHICH.search(message):
        return None
    if _LEAST.search(message):
        return "min"
    return "max" if _MOST.search(message) else None


def implied_keys(message: str) -> list[str]:
    """The attribute keys a superlative's adjective can mean when no key is named ("the biggest one")."""
    out: list[str] = []
    for rx, keys in _IMPLIED:
        if rx.search(message):
            out += [k for k in keys if k not in out]
    return out


def strip_quantities(text: str) -> str:
    """``text`` without property names and words of more or less ("longer length", "更大容量"): what is left names
    something else."""
    for rx in (*_KEY_RE.values(), _MOST, _LEAST, *(rx for rx, _ in _IMPLIED)):
        text = rx.sub(" ", text)
    return " ".join(text.split())


_LETTERS = ("XXS", "XS", "S", "M", "L", "XL", "XXL", "XXXL")  # clothing sizes, smallest first
# sizes in words beside them: a standard yoga mat is the medium one; bedding from single to king
_SIZE_WORDS = {"standard": "M", "regular": "M", "single": "S", "twin": "S", "double": "M", "full": "M",
               "queen": "L", "king": "XL", "super king": "XXL"}


def quantity(value: object) -> float | None:
    """The first amount of a value, in one unit per kind ("1TB" > "512GB"; "40h", "30L", "65W" as numbers); a
    size in letters or words by its place (S < M < L, "Medium" < "Large")."""
    text = (_value(value) or "").strip()
    letters = SIZE_LETTER.get(text.lower()) or _SIZE_WORDS.get(text.lower()) or text.upper()
    if letters in _LETTERS:
        return float(_LETTERS.index(letters))
    m = _NUMBER.search(text)
    if not m:
        return None
    return float(m.group(1)) * _UNIT.get((m.group(2) or "").lower(), 1.0)


def extreme(products: list[Product], message: str, vocab: Vocabulary, direction: str) -> tuple[Product, str] | None:
    """Of ``products``, the one whose value of the quantity the message names is largest (``"max"``) or smallest
    (``"min"``), with that quantity's key; None when fewer than two of them state it or the message names no
    quantity. A quantity named only by its adjective ("the biggest one") is the first of the keys it can mean that
    the products state. A tie is no answer ("which is biggest?" of three Large bottles)."""
    keys, _ = asked(message, vocab)
    for key in keys or implied_keys(message):
        valued = [(q, product) for product in products
                  if (q := quantity((product.attributes or {}).get(key))) is not None]
        if len(valued) >= 2:
            pick = max if direction == "max" else min
            best = pick(q for q, _ in valued)
            if sum(q == best for q, _ in valued) == len(valued):
                continue  # all the same: this quantity tells them apart not at all
            return next(product for q, product in valued if q == best), key
    return None


def stated(product: Product, key: str, vocab: Vocabulary, lang: str) -> Answer | None:
    """The product's own value of ``key`` as an answer ("Size: 750ml."), None when it states none."""
    have = _value((product.attributes or {}).get(key))
    return None if have is None else _stated(product.id, key, have, vocab, lang)


def _stated(product_id: str, key: str, have: str, vocab: Vocabulary, lang: str) -> Answer:
    """A key asked with no value: the product's own value, a yes / no value as its verdict."""
    boolean = have.lower() in BOOLEAN_WORDS
    verdict = ("yes" if have.lower() in ("yes", "true", "y", "1") else "no") if boolean else "value"
    return Answer(product_id, key, have, None, verdict, _state(key, have, vocab, lang))


def unstated(products: list[Product], message: str, vocab: Vocabulary) -> str | None:
    """The key a superlative asks about when none of ``products`` states it ("which one's lightest?"), else None."""
    keys, _ = asked(message, vocab)
    for key in keys or implied_keys(message):
        if not any(_value((p.attributes or {}).get(key)) is not None for p in products):
            return key
    return None


def text_of(answers: list[Answer], lang: str) -> str:
    return ("" if lang == "zh" else " ").join(a.text for a in answers)


# ---------------------------------------------------------------- wording

def _value(v: object) -> str | None:
    if v is None or isinstance(v, (dict, list)) or str(v).strip() == "":
        return None
    return str(v)


def key_name(key: str, lang: str) -> str:
    return KEY_NAMES_ZH.get(key, key.replace("_", " ")) if lang == "zh" else key.replace("_", " ")


def value_name(key: str, value: str, vocab: Vocabulary, lang: str) -> str:
    """The store's own word for a value in ``lang`` (红色 for color=red, 网布 for material=mesh)."""
    if lang != "zh":
        return value
    from daogou.generate.glossary import value_zh
    named = value_zh(key, value)
    if named != value and any(is_cjk(c) for c in named):
        return named  # the name the product's own copy uses (橙色, not 橘色)
    names = [a for a in vocab.aliases_of("attribute", (key, value)) if any(is_cjk(c) for c in a)]
    return min(names, key=lambda a: (a.endswith("的"), len(a), a)) if names else value  # 黄色 before 黄的


def _confirm(key: str, have: str, asked_value: str, yes: bool, vocab: Vocabulary, lang: str) -> str:
    boolean = have.lower() in BOOLEAN_WORDS
    if boolean:
        return _boolean(key, have.lower() in ("yes", "true", "y", "1"), vocab, lang)
    if lang == "zh":
        said = value_name(key, have, vocab, lang)
        return f"是的，{key_name(key, lang)}是{said}。" if yes else \
            f"不是，它的{key_name(key, lang)}是{said}，不是{value_name(key, asked_value, vocab, lang)}。"
    name = key_name(key, lang)
    if name.endswith("s") and not name.endswith("ss"):  # "pieces: 1 piece", not "its pieces is 1 piece"
        return f"Yes — {name}: {have}." if yes else f"No — {name}: {have}, not {asked_value}."
    return f"Yes — its {name} is {have}." if yes else f"No — its {name} is {have}, not {asked_value}."


def _boolean(key: str, yes: bool, vocab: Vocabulary, lang: str) -> str:
    if lang == "zh":
        name = value_name(key, "yes", vocab, lang)
        name = name if name != "yes" else KEY_NAMES_ZH.get(key, key)
        return f"是的，这款{name}。" if yes else f"不，这款不{name}（{KEY_NAMES_ZH.get(key, name)}：否）。"
    name = key.replace("_", " ")
    return f"Yes — it is {name}." if yes else f"No — it is not {name} ({name}: no)."


def _state(key: str, have: str, vocab: Vocabulary, lang: str) -> str:
    if have.lower() in BOOLEAN_WORDS:
        return _boolean(key, have.lower() in ("yes", "true", "y", "1"), vocab, lang)
    if lang == "zh":
        return f"{key_name(key, lang)}：{value_name(key, have, vocab, lang)}。"
    return f"{key_name(key, lang).capitalize()}: {have}."


def _yes_no_key(key: str, vocab: Vocabulary) -> bool:
    """Whether the store's values of ``key`` are yes / no (waterproof, dishwasher_safe …)."""
    values = {v.lower() for v in vocab.key_values.get(key, ())}
    return (bool(values) and values <= BOOLEAN_WORDS) or (not values and key in YES_NO_KEYS)


def _unknown(key: str, asked_value: str | None, vocab: Vocabulary, lang: str) -> str:
    boolean = (asked_value is not None and asked_value.lower() in BOOLEAN_WORDS) or \
        (asked_value is None and _yes_no_key(key, vocab))
    if lang == "zh":
        name = value_name(key, "yes", vocab, lang) if boolean else ""
        name = name if name and name != "yes" else KEY_NAMES_ZH.get(key, key)
        what = f"是否{name}" if boolean else (f"是否是{value_name(key, asked_value, vocab, lang)}" if asked_value
                                          else key_name(key, lang))
        return f"商品信息里没有写{what}，可以咨询商家，或者让我找标明这一点的商品。"
    name = key.replace("_", " ")
    what = f"whether it is {name}" if boolean else f"whether it is {asked_value}" if asked_value else \
        _WHAT_EN.get(key, f"its {name}")
    return f"The listing doesn't state {what}. You could ask the seller, or I can look for ones that state it."
