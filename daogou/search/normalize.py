"""Normalisation of a shopper's text before anything reads it: one canonical form for the many ways people type.

- Control characters become spaces; format and unassigned characters go; NFKC (full-width letters and digits).
- Chinese and typographic punctuation becomes its ASCII form followed by a space ("耳机，300元以内" → "耳机, 300元以内"),
  so a budget after a Chinese comma is read like one after an English comma.
- Chinese numerals become digits, with the colloquial forms shoppers use: 一百 → 100, 两百五 → 250, 一千五 → 1500,
  三万五 → 35000, 1千5 → 1500; neighbouring digits are a range (一两百 → 100-200, 五六百 → 500-600, 两三千 → 2000-3000);
  "about N" forms become ``~N`` (百来块 → ~100块, 千把块 → ~1000块, 一百来块 → ~100块). Words that only contain
  numeral characters (百搭, 千万, 十分, 万一) are left alone: a numeral run counts only when it starts with a digit.
- English number words with hundred/thousand/grand (or followed by a money word): "two hundred" → 200,
  "a grand" → 1000, "fifty bucks" → 50 bucks; and before what they count: "three pack" → 3 pack, "two ports".

The conversions are written here (not with cn2an) because the colloquial elisions (两百五, 一千五, ranges of two
neighbouring digits) are exactly what shoppers type and what standard converters reject.
"""

from __future__ import annotations

import re
import unicodedata

_PUNCT = str.maketrans({"，": ", ", "、": ", ", "。": ". ", "；": "; ", "：": ": ", "！": "! ", "？": "? ",
                        "（": " (", "）": ") ", "【": " [", "】": "] ", "「": ' "', "」": '" ', "『": ' "', "』": '" ',
                        "“": ' "', "”": '" ', "‘": "'", "’": "'", "《": ' "', "》": '" ', "～": "~", "〜": "~",
                        "—": "-", "–": "-", "－": "-", "﹣": "-", "…": "... ", "·": " ", "・": " ", "￥": "¥",
                        "＄": "$", "〇": "零"})

_DIGIT = {"零": 0, "一": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNIT = {"十": 10, "百": 100, "千": 1000}
_BIG = {"万": 10_000, "亿": 100_000_000}
_D, _U = "零一二两三四五六七八九", "十百千万亿"
# A numeral run: starts with a digit (or 十 followed by a digit / money word), contains a unit.
_CN_RUN = re.compile(rf"(?:[{_D}]+[{_U}][{_D}{_U}]*|十[{_D}][{_D}{_U}]*|十(?=[块元钱]))")
# Two neighbouring digits before a unit: a range (一两百, 五六百, 两三千, 三四十).
_CN_PAIR = re.compile(rf"(?<![{_D}{_U}])([一二两三四五六七八])([二两三四五六七八九])([十百千万])(?![{_D}十百千])")
_CN_ABOUT = re.compile(rf"(?:(?P<num>[{_D}]?[十百千万])(?:来|把)|(?P<num2>[{_D}]?[{_U}])来)(?=[块元钱]|$|\s)")
_MIXED = re.compile(r"(?<![\d.])(\d+)([千万])(\d)(?![\d.千万百十])")   # 1千5 → 1500, 1万2 → 12000
_EN_ONES = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
            "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40,
            "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "couple": 2, "few": 3}
_EN_NUM = "|".join(sorted(_EN_ONES, key=len, reverse=True))
_EN_BIG = re.compile(rf"(?<![a-z])(?:(?P<n>\d+(?:\.\d+)?|{_EN_NUM})(?:[ -](?P<n2>{_EN_NUM}))?[ -]?(?:a[ ])?)?"
                     rf"(?P<unit>hundred|thousand|grand)(?:[ -](?:and[ ])?(?P<rest>{_EN_NUM}))?(?![a-z])", re.I)
_EN_MONEY = re.compile(rf"(?<![a-z])(?P<n>{_EN_NUM})(?:[ -](?P<n2>one|two|three|four|five|six|seven|eight|nine))?"
                       r"(?=\s+(?:bucks|dollars?|yuan|kuai|quid|euros?|pounds?|rmb)(?![a-z]))", re.I)
_EN_WORDS = "|".join(sorted((w for w in _EN_ONES if w not in ("a", "an", "couple", "few")), key=len, reverse=True))
_EN_CUE = re.compile(rf"(?P<cue>(?<![a-z])(?:under|below|about|around|max|over|above|less than|more than|budget)\s)"
                     rf"(?P<n>(?:{_EN_WORDS})(?:[ -](?:one|two|three|four|five|six|seven|eight|nine))?)(?![a-z])", re.I)


def clean(text: str) -> str:
    """Control characters → spaces; unpaired surrogates, U+FFFD, format and unassigned characters dropped; Chinese and
    typographic punctuation → ASCII; NFKC; whitespace collapsed."""
    kept = []
    for c in text:
        cat = unicodedata.category(c)
        if c.isspace() or cat == "Cc":
            kept.append(" ")
        elif cat not in ("Cs", "Cf", "Co", "Cn") and c != "\ufffd":
            kept.append(c)
    text = "".join(kept).translate(_PUNCT)
    return " ".join(unicodedata.normalize("NFKC", text).translate(_PUNCT).split())


_ISH = re.compile(r"(?<![a-zA-Z0-9.])(\d+(?:\.\d+)?k?)\s?-?ish(?![a-z])", re.I)
_RANGE_UNIT = re.compile(r"(?<![a-zA-Z0-9.])(\d+)\s*(?:to|-|or)\s*(\d+)\s*(hundred|thousand|k)(?![a-z])", re.I)
# Units written many ways → one spelling (the store's values are then found by the vocabulary): 30 litres → 30L.
_UNITS = (
    (re.compile(r"(?<![a-zA-Z0-9.+])(\d{1,2})\s?\+\s?(\d{2,4})(?:\s?(?:gb|g))?(?![a-z0-9])", re.I), r"\1GB RAM \2GB"),
    (re.compile(r"(?<![a-zA-Z0-9.])(\d+)\s?-?(?:t|tb|terabytes?)(?![a-z])", re.I), r"\1TB"),
    (re.compile(r"(?<![a-zA-Z0-9.])(\d+(?:\.\d+)?)\s?-?(?:l|ltr|litres?|liters?|升)(?![a-z])", re.I), r"\1L"),
    (re.compile(r"(?<![a-zA-Z0-9.])(\d+)\s?-?(?:gb|gigs?|gigabytes?|g)(?![a-z])", re.I), r"\1GB"),
    (re.compile(r"(?<![a-zA-Z0-9.])(\d+)\s?-?(?:w|watts?|瓦)(?![a-z])", re.I), r"\1W"),
    (re.compile(r"(?<![a-zA-Z0-9.])(\d\.\d)\s?(?:inch(?:es)?|in|寸|英寸|\"|''|”)(?![a-z])", re.I), '\\1"'),
    (re.compile(r"(?<![a-zA-Z0-9.])(\d+)\s?-?(?:pieces|pcs|片|块积木|颗粒|粒)(?![a-z])", re.I), r"\1 pcs"),
    (re.compile(r"(?<![a-zA-Z0-9.])(\d{2,})\s?-?(?:piece|pc)(?![a-z])", re.I), r"\1 pcs"),  # "the 2000 piece ones"
    (re.compile(r"(?<![a-zA-Z0-9.])(\d+)\s?-?(?:hours?|hrs?|h|小时)(?![a-z])", re.I), r"\1h"),
    (re.compile(r"(?<![a-zA-Z0-9.])(\d+)\s?(?:years? old|yrs?|y/o|yo|岁)\s?(?:and up|and over|\+|以上|及以上|plus)", re.I),
     r"\1+"),
    (re.compile(r"(?:ages?|for)\s(\d+)\s?(?:and up|and over|plus|\+)", re.I), r"age \1+"),
)

# a number word before what is counted: "three pack", "two ports", "a six-pack", "three devices at once"
_EN_COUNTED = re.compile(r"(?<![a-z])(?P<n>one|two|three|four|five|six|seven|eight|nine|ten|twelve)"
                         r"(?=[ -](?:pack|packs|pairs?|ports?|devices?|gadgets|pieces?|pcs|piece|usb)(?![a-z]))", re.I)


_LATIN_THEN_NUMERAL = re.compile(r"(?<=[A-Za-z])(?=[一二两三四五六七八九十百千万][一二两三四五六七八九十百千万零]*"
                                 r"(?:[元块]|左右|上下|以[内下上]|$|\s))")
_UNIT_HINT = re.compile(r"\d\s?-?(?:[a-z\"'”+]|升|瓦|寸|英寸|片|颗|粒|小时|岁)", re.I)  # a unit may follow a number


# a hedge between a bound and its amount says nothing of the bound: "more than like 600", "no more than about 600"
_HEDGED_BOUND = re.compile(r"(?<![a-z])((?:more|less|fewer|higher|lower) than|under|below|over|above|at most|at least|"
                           r"max(?:imum)?|up to|within|spend|pay)\s+(?:like|about|around|roughly|approximately|"
                           r"approx\.?|maybe|say|just|only)\s+(?=[¥$£€]?\s?\d)", re.I)


def normalise_query(text: str) -> str:
    """The canonical form of a shopper's message (see the module's description)."""
    text = clean(text)
    text = _HEDGED_BOUND.sub(r"\1 ", text)
    if any("\u4e00" <= c <= "\u9fff" for c in text):
        text = chinese_numerals(text)
    if re.search(r"hundred|thousand|grand|bucks|dollars?|yuan|kuai|quid|euros?|pounds?|under|below|about|around|max",
                 text, re.I):
        text = _RANGE_UNIT.sub(lambda m: _range_unit(m), text)
        text = english_numbers(text)
    if _EN_COUNTED.search(text):
        text = _EN_COUNTED.sub(lambda m: str(_EN_ONES[m.group("n").lower()]), text)
    text = _ISH.sub(r"~\1", text)
    if any(c.isdigit() for c in text) and _UNIT_HINT.search(text):
        for pattern, repl in _UNITS:
            text = pattern.sub(repl, text)
    return text


def _range_unit(m: re.Match) -> str:
    mul = {"hundred": 100, "thousand": 1000, "k": 1000}[m.group(3).lower()]
    return f"{int(m.group(1)) * mul}-{int(m.group(2)) * mul}"


def cn_value(run: str) -> int | None:
    """The value of a Chinese numeral run (一千零五 → 1005, 两百五 → 250, 三万五 → 35000); None if it is not one."""
    total = section = 0
    num: int | None = None
    last_unit, zero = 0, False
    for ch in run:
        if ch in _DIGIT:
            if num is not None and num != 0:
                return None  # "一五": digits without units are not an amount here
            zero = zero or ch == "零"
            num = _DIGIT[ch]
        elif ch in _UNIT:
            section += (1 if num is None else num) * _UNIT[ch]
            last_unit, num, zero = _UNIT[ch], None, False
        elif ch in _BIG:
            section += num or 0
            total += max(section, 1) * _BIG[ch]
            section, num, last_unit, zero = 0, None, _BIG[ch], False
        else:
            return None
    if num is not None:
        # colloquial elision: 两百五 = 250, 一千五 = 1500, 三万五 = 35000 (not after a 零: 一千零五 = 1005)
        section += num * last_unit // 10 if last_unit >= 100 and not zero else num
    return total + section


_CN_BARE_UNIT = re.compile(r"(?<![零一二两三四五六七八九十百千万\d])([百千万])(?=元|块)")  # 百元以内 → 100元以内
_CN_COUNT = re.compile(r"(?<![零一二两三四五六七八九十百千万\d])([一二两三四五六七八九单双])(?=个?口|孔|岁|码|寸|升|片|小时|双装|[个台部]?设备)")
_COUNT = {**_DIGIT, "单": 1, "双": 2}


def chinese_numerals(text: str) -> str:
    text = _LATIN_THEN_NUMERAL.sub(" ", text)  # "Strydo四百" → "Strydo 400", not the one word "Strydo400"
    text = _CN_BARE_UNIT.sub(lambda m: str(_UNIT.get(m.group(1)) or _BIG[m.group(1)]), text)
    text = _CN_COUNT.sub(lambda m: str(_COUNT[m.group(1)]), text)
    text = re.sub(r"(\d)个口", r"\1口", text)
    text = re.sub(r"(?<=充)([一二两三四五六七八九])(?=个)", lambda m: str(_COUNT[m.group(1)]), text)
    text = re.sub(r"充\s*(\d)\s*个(?!设备)", r"充\1个设备", text)  # "同时充三个": three devices
    text = _CN_ABOUT.sub(lambda m: f"~{cn_value(_one(m.group('num') or m.group('num2')))}", text)
    text = _CN_PAIR.sub(lambda m: f"{_DIGIT[m.group(1)] * _UNIT_VALUE(m.group(3))}-"
                                  f"{_DIGIT[m.group(2)] * _UNIT_VALUE(m.group(3))}", text)

    def run(m: re.Match) -> str:
        value = cn_value(m.group())
        return m.group() if value is None else str(value)
    text = _CN_RUN.sub(run, text)
    return _MIXED.sub(lambda m: str(int(m.group(1)) * _BIG_OR_UNIT(m.group(2))
                                    + int(m.group(3)) * _BIG_OR_UNIT(m.group(2)) // 10), text)


def _one(run: str) -> str:
    return run if run[0] in _DIGIT else "一" + run


def _UNIT_VALUE(unit: str) -> int:  # noqa: N802 - reads like the table it looks up
    return _UNIT.get(unit) or _BIG[unit]


def _BIG_OR_UNIT(unit: str) -> int:  # noqa: N802
    return _BIG.get(unit) or _UNIT[unit]


def _en(word: str | None) -> float:
    if not word:
        return 1.0
    word = word.lower()
    return float(word) if word[0].isdigit() else float(_EN_ONES[word])


def english_numbers(text: str) -> str:
    def big(m: re.Match) -> str:
        if m.group("n") is None and m.group("unit").lower() == "hundred":
            return m.group()  # a bare "hundred" is not an amount
        n1, n2 = m.group("n"), m.group("n2")
        n = _en(n2) if n1 and n1.lower() in ("a", "an") and n2 else _en(n1) + (_en(n2) if n2 else 0)
        unit = {"hundred": 100, "thousand": 1000, "grand": 1000}[m.group("unit").lower()]
        value = n * unit + (_en(m.group("rest")) if m.group("rest") else 0)
        return _fmt(value)

    def small(m: re.Match) -> str:
        return _fmt(_en(m.group("n")) + (_en(m.group("n2")) if m.group("n2") else 0))
    text = _EN_BIG.sub(big, text)
    text = _EN_MONEY.sub(small, text)
    return _EN_CUE.sub(lambda m: m.group("cue") + _fmt(sum(_en(w) for w in re.split(r"[ -]", m.group("n")))), text)


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
