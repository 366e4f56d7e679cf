"""What model output may be shown: where a stream can be cut safely, when output is broken, how it is bounded."""

from __future__ import annotations

import re
from collections import Counter

_CN_NUMERALS = set("零〇一二两三四五六七八九十百千万亿")
_BOUNDARY_PUNCT = set("，。！？；：、）」』】,;!?")
_SENTENCE_ENDS = ("。", "！", "？", ". ", "! ", "? ", "\n")
_CJK = re.compile(r"[\u3400-\u9fff]")
_LETTERS = re.compile(r"[A-Za-z\u3400-\u9fff]")
_RUN = re.compile(r"(.)\1{11,}")
_ECHO = re.compile(r"</?[a-z][a-z_]*(?:[\s>/]|$)|^\s*(title|brand|category|price|in stock):", re.M)  # any tag
_SENT_SPLIT = re.compile(r"(?<=[.!?。！？\n])")


def safe_boundary(text: str) -> int:
    """Length of the prefix of ``text`` that no later token can change the meaning of.

    A prefix ends after whitespace, punctuation or a Chinese character that is not a numeral: a number, a word or a
    brand still being written (¥1,2… · Foll… · 三百…) stays held back until it is complete.
    """
    for i in range(len(text) - 1, -1, -1):
        c = text[i]
        if c.isspace() or c in _BOUNDARY_PUNCT:
            return i + 1 if not (c in ",." and i > 0 and text[i - 1].isdigit()) else _before(text, i)
        if _CJK.match(c) and c not in _CN_NUMERALS:
            return i + 1
    return 0


def _before(text: str, i: int) -> int:
    return safe_boundary(text[:i])


def sentence_end(text: str) -> int:
    """Length of ``text`` up to its last complete sentence (0 when there is none)."""
    return max((text.rfind(mark) + 1 for mark in _SENTENCE_ENDS if mark in text), default=0)


def cut(text: str, max_chars: int) -> str:
    """At most ``max_chars`` characters, ending at a sentence end where one is past halfway."""
    if len(text) <= max_chars:
        return text
    head = text[:max_chars]
    at = max(head.rfind(mark) for mark in _SENTENCE_ENDS)
    if at > max_chars // 2:
        return head[:at + 1]
    return head[:safe_boundary(head)]


def broken(text: str, lang: str, final: bool) -> str:
    """Why ``text`` cannot be shown ("" when it can). Not final: only what more text cannot repair."""
    if _ECHO.search(text):
        return "echoed the prompt"
    if "\ufffd" in text or any(ord(c) < 32 and c not in "\n\t" for c in text):
        return "garbled characters"
    if _RUN.search(text):
        return "repeated characters"
    parts = [p.strip() for p in _SENT_SPLIT.split(text) if len(p.strip()) >= 8]
    if parts and Counter(parts).most_common(1)[0][1] >= 3:
        return "repeated sentences"
    letters = _LETTERS.findall(text)
    if final and not letters:
        return "empty"
    if final or len(letters) >= 40:
        cjk = sum(1 for c in letters if _CJK.match(c)) / max(len(letters), 1)
        if lang == "zh" and cjk < 0.3:
            return "not Chinese"
        if lang == "en" and cjk > 0.5:
            return "not English"
    return ""
