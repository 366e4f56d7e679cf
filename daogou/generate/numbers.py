"""Numbers and prices in English and Chinese text: 1,299.50, ¥259, 259元, £4.99, 3万, 三百九十九元.

The same extractor reads the facts and the generated text, so a number counts as grounded exactly when the facts
hold it in any of these spellings. Numbers glued to letters in front (model codes such as X3210, ids such as
P00001) are not numbers here, neither in facts nor in output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NUM = re.compile(r"(?<![A-Za-z0-9])(?<!\d\.)(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?![\d])")
_CN = re.compile(r"[零〇一二两三四五六七八九十百千万亿]+")
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
              "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_BIG = {"万": 10_000, "亿": 100_000_000}
_BEFORE = re.compile(r"(HK\$|US\$|[¥￥£$€₹₩]|RMB|CNY|GBP|USD|EUR)\s?$", re.I)
_AFTER = re.compile(r"^\s?(元|块|yuan|rmb|cny|gbp|usd|eur|pounds?\b|dollars?\b|euros?\b)", re.I)
_SYMBOLS = {"¥": "CNY", "￥": "CNY", "元": "CNY", "块": "CNY", "yuan": "CNY", "rmb": "CNY", "cny": "CNY",
            "£": "GBP", "gbp": "GBP", "pound": "GBP", "pounds": "GBP", "$": "USD", "us$": "USD", "usd": "USD",
            "dollar": "USD", "dollars": "USD", "€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR",
            "hk$": "HKD", "₹": "INR", "₩": "KRW"}
SAME_SIGN = {"JPY": "CNY"}  # ¥ is written for both


@dataclass(frozen=True)
class Number:
    value: float
    currency: str   # "" when not a price
    start: int
    end: int
    text: str


def numbers_in(text: str) -> list[Number]:
    """Every number in ``text`` with its currency when one is written next to it, in order of position."""
    found = [_arabic(text, m) for m in _NUM.finditer(text)]
    found += [n for m in _CN.finditer(text) if (n := _chinese(text, m)) is not None]
    return sorted(found, key=lambda n: n.start)


def number_values(text: str) -> set[float]:
    return {round(n.value, 4) for n in numbers_in(text)}


def same_currency(claimed: str, actual: str) -> bool:
    if not claimed or not actual:
        return True
    return SAME_SIGN.get(claimed, claimed) == SAME_SIGN.get(actual, actual)


def _arabic(text: str, m: re.Match) -> Number:
    value = float(m.group(1).replace(",", ""))
    start, end = m.start(), m.end()
    if text.startswith("万", end):
        value, end = value * 10_000, end + 1
    return _with_currency(text, value, start, end)


def _with_currency(text: str, value: float, start: int, end: int) -> Number:
    currency = ""
    before = _BEFORE.search(text[max(0, start - 4):start])
    after = _AFTER.match(text[end:end + 8])
    if before:
        currency, start = _SYMBOLS.get(before.group(1).lower(), before.group(1).upper()), start - len(before.group(0))
    elif after:
        currency, end = _SYMBOLS[after.group(1).lower()], end + len(after.group(0))
    return Number(round(value, 4), currency, start, end, text[start:end])


def _chinese(text: str, m: re.Match) -> Number | None:
    run = m.group(0)
    money = text.startswith(("元", "块"), m.end())
    has_digit = any(c in _CN_DIGITS for c in run)
    has_unit = any(c in _CN_UNITS or c in _CN_BIG for c in run)
    if not has_digit or not (money or (len(run) >= 2 and has_unit)):
        return None  # 一款, 十分, 千万: ordinary words, not numbers
    value = chinese_to_number(run)
    if value is None:
        return None
    return _with_currency(text, float(value), m.start(), m.end())


def chinese_to_number(run: str) -> int | None:
    """三百九十九 → 399, 两千 → 2000, 十二 → 12, 三万五千 → 35000, 一二三 → 123 (digit by digit)."""
    if all(c in _CN_DIGITS for c in run):
        return int("".join(str(_CN_DIGITS[c]) for c in run))
    total = section = digit = 0
    for c in run:
        if c in _CN_DIGITS:
            digit = _CN_DIGITS[c]
        elif c in _CN_UNITS:
            section += (digit or 1) * _CN_UNITS[c]
            digit = 0
        elif c in _CN_BIG:
            total = (total + section + digit) * _CN_BIG[c]
            section = digit = 0
        else:
            return None
    return total + section + digit
