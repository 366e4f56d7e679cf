"""Typos of the store's own words, fixed before the query is read.

- A Latin word the store never uses (not in its texts, not an English word: wordfreq's Zipf frequency below
  :data:`KNOWN_ZIPF`) is read as the store's word at the smallest Damerau–Levenshtein distance (1 for words of 4–6
  letters, 2 from 7 letters up) when exactly one word is that close: "hedphones" → "headphones", "lumra" →
  "lumora", "runnign" → "running"; two store words run together are split ("yogamat" → "yoga mat").
- Chinese characters that sound like one of the store's Chinese words (same toneless pinyin, same length) and are
  not that word are read as it: 飞成 → 飞骋, 耳几 → 耳机, 素金 → 素锦. pinyin comes from pypinyin.

Distances come from rapidfuzz.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache

from daogou.search.vocab import Vocabulary, is_cjk

COMMON_WORDS = frozenset("""
a about above after again all also am an and any anything are around as at away back bad be because been before
being below best better between big bit both but buy by can cannot cant could cheap cheaper cheapest color colour
colors colours come cost costs could day did do does doing done dont down each either else even ever every
expensive few find fine first for free from get gets getting gift give go going gone good got great had has have
having he her here high him his how i if in into is it its just keep kind kinds last least less let like little
long look looking lot low made make many max maybe me min more most much must my need needs new next nice no none
nor not nothing now of off old on one ones only or other others our out over own pair pick please plus price
prices pricey really right same say see seen she should show similar size sizes small so some something
something soon still stuff such sure take than thank thanks that the their them then there these they thing
things think this those though through to too top total try two under up upto us use used very want wanted wants
was way we well were what when where which while who why will wish with within without work would yes yet you
your yours also around budget spend spending pay paying tops ish roughly approximately approx somewhere range
instead actually rather prefer preferably kinda sorta gonna wanna gotta tryna lemme gimme hey hello hi thx pls plz
okay ok alright cool just really super quite pretty nope yeah yep hmm umm uh maybe perhaps probably anyone
someone everyone mom mum dad wife husband son daughter sister brother kid kids friend friends girlfriend
boyfriend baby birthday christmas present presents gifts help suggest recommend recommendation recommendations
options option another else something anything cheap cheaper priced pricier premium quality decent comfy
comfortable nice cute pretty light heavy warm cool hot cold summer winter spring autumn fall rain rainy daily
work office school travel trip gym home house room bed kitchen everyday casual formal party wedding women woman
men man kids girls boys ladies mens womens unisex adult adults teen teens toddler old year years month months
week weeks today tomorrow now asap fast quick quickly free shipping delivery deliver stock available
""".split())
KNOWN_ZIPF = 2.5  # a word at least this frequent in English (wordfreq's Zipf scale: 3 = once per million words) is no typo
_WORD = re.compile(r"[a-z][a-z'-]*[a-z]", re.I)
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")


def correct_typos(text: str, vocab: Vocabulary) -> tuple[str, dict[str, str]]:
    """(text with typos of the store's words fixed, {what was written: what it was read as})."""
    fixed: dict[str, str] = {}
    index = _index(vocab)
    is_english_word("")  # the word list loads with the index, not on a shopper's query
    if index is None:
        return text, fixed
    words, pinyin_map = index

    def latin(m: re.Match) -> str:
        w = m.group()
        low = w.lower()
        if len(low) < 4 or low in COMMON_WORDS or low in vocab.known_words or _known(vocab, low) or is_english_word(low):
            return w
        split = _split(low, vocab)
        if split:
            fixed[w] = split
            return split
        found = _closest(low, words)
        if found is None or (found[1] > 1 and any(is_english_word(s) for s in _singulars(low))):
            return w  # "leashes" is no "leather": the plural of an English word, unless one letter off the store's
        best = found[0]
        fixed[w] = best
        return best
    text = _WORD.sub(latin, text)
    if pinyin_map and any(is_cjk(c) for c in text):
        text = _CJK_RUN.sub(lambda m: _pinyin_fix(m.group(), vocab, pinyin_map, fixed), text)
    return text, fixed


_FREQ: dict[str, float] | None = None


def is_english_word(word: str, zipf: float = KNOWN_ZIPF) -> bool:
    """Whether ``word`` (lower case) is an English word at least this frequent, so no typo (wordfreq's frequency
    list, loaded once: a dictionary look-up, not wordfreq's tokenising ``zipf_frequency``, ~0.4 ms a call)."""
    global _FREQ
    if _FREQ is None:
        from wordfreq import get_frequency_dict  # a dependency: without it English words would read as typos
        _FREQ = get_frequency_dict("en")
    return _FREQ.get(word, 0.0) >= 10 ** (zipf - 9)


def _singulars(word: str) -> tuple[str, ...]:
    """What a plural may be the plural of ("leashes" → leashe, leash; "batteries" → battery): a plural of an English
    word is no typo either, though rarer than the word."""
    if not word.endswith("s") or len(word) < 5:
        return ()
    out = [word[:-1]]
    if word.endswith("es"):
        out.append(word[:-2])
    if word.endswith("ies"):
        out.append(word[:-3] + "y")
    return tuple(out)


def _split(word: str, vocab: Vocabulary) -> str | None:
    """Two of the store's words run together ("yogamat", "phonecase"), read apart."""
    for i in range(3, len(word) - 2):
        a, b = word[:i], word[i:]
        if (f"{a} {b}" in vocab.categories or f"{a} {b}" in vocab.attributes or f"{a} {b}" in vocab.brands
                or (_known(vocab, a) and _known(vocab, b))):
            return f"{a} {b}"
    return None


def _known(vocab: Vocabulary, word: str) -> bool:
    return word in vocab.categories or word in vocab.brands or word in vocab.attributes


def _closest(word: str, words: tuple[str, ...]) -> tuple[str, int] | None:
    """The one store word nearest ``word`` within the edit limit, and its distance (None: none, or a tie)."""
    from rapidfuzz.distance import OSA
    from rapidfuzz.process import extract
    limit = 1 if len(word) <= 6 else 2
    found = extract(word, words, scorer=OSA.distance, score_cutoff=limit, limit=4)
    if not found:
        return None
    best = min(d for _, d, _ in found)
    top = [w for w, d, _ in found if d == best]
    if len(top) > 1:  # a tie: the word that keeps more of how it begins ("bagpack": backpack, not daypack)
        lead = {w: len(os.path.commonprefix([w, word])) for w in top}
        most = max(lead.values())
        top = [w for w in top if lead[w] == most] if most >= 2 else top
    if len(top) != 1 or abs(len(top[0]) - len(word)) > limit:
        return None
    return top[0], int(best)


def _pinyin_fix(run: str, vocab: Vocabulary, pinyin_map: dict[tuple[str, ...], str], fixed: dict[str, str]) -> str:
    """Replace windows of ``run`` that sound like one of the store's Chinese words (longest first) and do not
    overlap a word of the store already there."""
    known = [(c.start, c.end) for c in vocab.candidates(run)]
    covered = bytearray(len(run))
    for s, e in known:
        covered[s:e] = b"\x01" * (e - s)
    if all(covered):
        return run  # every character is already a word of the store
    sounds = [_sound(c) for c in run]
    import jieba
    words, pos = [], 0  # jieba's dictionary words of the run: a window must not cut one ("有没有|行李箱": no 有行)
    for w in jieba.lcut(run, HMM=False):
        if len(w) > 1 and jieba.dt.FREQ.get(w, 0) > 0:
            words.append((pos, pos + len(w)))
        pos += len(w)
    out, i = [], 0
    while i < len(run):
        for n in (4, 3, 2):
            window = run[i:i + n]
            if len(window) < n or any(s < i + n and e > i and not (i <= s and e <= i + n and e - s < n)
                                      for s, e in known):
                continue  # overlaps a word of the store that it does not contain
            if any(s < i + n and e > i and not (i <= s and e <= i + n) for s, e in words):
                continue  # cuts a word in two
            alias = pinyin_map.get(tuple(sounds[i:i + n]))
            if alias is not None and alias != window and "的" not in window and _rare(window):  # 超过 is no 炒锅
                fixed[window] = alias
                out.append(alias)
                i += n
                break
        else:
            out.append(run[i])
            i += 1
    return "".join(out)


@lru_cache(maxsize=20_000)
def _sound(ch: str) -> str:
    from pypinyin import lazy_pinyin
    got = lazy_pinyin(ch)
    return got[0] if len(got) == 1 else ch


RARE_WORD = 50  # a Chinese word jieba has seen this often or more is meant as written (超过, 柔和), not as a typo


def _rare(word: str) -> bool:
    import jieba
    jieba.dt.check_initialized()
    return jieba.dt.FREQ.get(word, 0) < RARE_WORD


def _index(vocab: Vocabulary) -> tuple[tuple[str, ...], dict[tuple[str, ...], str]] | None:
    """(the store's Latin words to correct towards, toneless pinyin of its Chinese words → the word), kept on the
    vocabulary and rebuilt when its tables grow."""
    size = len(vocab.categories) + len(vocab.brands) + len(vocab.attributes)
    got = vocab.__dict__.get("_typo_index")
    if got is None or got[0] != size:
        got = (size, _build(tuple(vocab.categories), tuple(vocab.brands), tuple(vocab.attributes)))
        vocab.__dict__["_typo_index"] = got
    return got[1]


def _build(categories: tuple[str, ...], brands: tuple[str, ...], attributes: tuple[str, ...]):
    latin, cjk = set(), {}
    for alias in (*categories, *brands, *attributes):
        for w in alias.split():
            if w.isascii() and w.isalpha() and len(w) >= 4 and w not in COMMON_WORDS:
                latin.add(w)
        if 2 <= len(alias) <= 4 and all(is_cjk(c) for c in alias) and not alias.endswith("的"):
            cjk.setdefault(alias, None)
    pinyin_map: dict[tuple[str, ...], str] = {}
    if cjk:
        try:
            from pypinyin import lazy_pinyin
        except ImportError:  # pragma: no cover - a dependency; without it only Latin typos are fixed
            lazy_pinyin = None
        if lazy_pinyin is not None:
            ambiguous = set()
            for alias in cjk:
                sound = tuple(_sound(c) for c in alias)
                if sound in pinyin_map and pinyin_map[sound] != alias:
                    ambiguous.add(sound)
                pinyin_map[sound] = alias
            for sound in ambiguous:
                pinyin_map.pop(sound)
    return tuple(sorted(latin)), pinyin_map
