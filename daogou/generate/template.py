"""The ``template`` backend: deterministic, grounded English and 中文 text built from the facts alone.

No model: it is the fallback when no LLM is available or an LLM's output fails the grounding check. Every value
it writes is copied from the facts; sentences it quotes from seller text are kept only when they pass the checker.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from daogou.generate.base import Capabilities, LLMConfig, Request
from daogou.generate.facts import Attribute, Facts, join_sentences, sentences
from daogou.generate.grounding import Checker, Truth
from daogou.generate.tasks import Task

_PIECES = re.compile(r"[\u3400-\u9fff]{1,2}|\s*[^\s\u3400-\u9fff]+|\s+")
VERSION = "template-1"

OPEN_EN = {"neutral": "{t}.", "friendly": "Say hello to the {t}!", "premium": "Discover the {t}.",
           "playful": "Meet your new favourite: the {t}!"}
OPEN_ZH = {"neutral": "{t}。", "friendly": "推荐这款{t}！", "premium": "臻选{t}。", "playful": "快来看看这款{t}吧！"}
PRICE_EN = {"neutral": "Priced at {p}.", "friendly": "Yours for just {p}.", "premium": "Available at {p}.",
            "playful": "All yours for {p}!"}
PRICE_ZH = {"neutral": "售价{p}。", "friendly": "到手价{p}。", "premium": "售价{p}。", "playful": "只要{p}！"}
CLOSE_EN = {"neutral": "", "friendly": "A great pick for every day.", "premium": "Quality that shows in the details.",
            "playful": "Go on, treat yourself!"}
CLOSE_ZH = {"neutral": "", "friendly": "日常使用的好选择。", "premium": "细节之处见品质。", "playful": "心动不如行动！"}
PHRASE_EN = {"color": "in {v}", "colour": "in {v}", "material": "made of {v}", "size": "size {v}",
             "capacity": "{v} capacity", "battery": "up to {v} of battery life", "storage": "{v} of storage",
             "ram": "{v} RAM", "power": "{v} power"}
PHRASE_ZH = {"color": "{v}", "colour": "{v}", "material": "{v}材质", "size": "{l}{v}", "capacity": "{v}容量",
             "battery": "续航{v}", "storage": "{v}存储", "ram": "{v}运行内存", "power": "{v}功率",
             "hair_type": "适合{v}发质", "skin_type": "适合{v}肌肤", "age": "适合{v}"}


class TemplateBackend:
    name = "template"
    capabilities = Capabilities(streaming=True, languages=("en", "zh"), needs_prompt=False)

    def __init__(self, config: LLMConfig | None = None):
        self.config = config or LLMConfig(backend="template")

    @property
    def model_id(self) -> str:
        return VERSION

    def stream(self, request: Request) -> Iterator[str]:
        yield from _PIECES.findall(write(request.task))

    def close(self) -> None:
        pass


def write(task: Task) -> str:
    """The template text for ``task``."""
    from daogou.generate import template_tasks
    facts = task.facts()
    subjects, context = task.truths()
    if task.kind == "copy":
        return write_copy(facts[0], subjects[0], task.style, task.tone)
    if task.kind == "explain":
        return template_tasks.explain(task, facts[0], subjects[0], context)
    if task.kind == "compare":
        return template_tasks.compare(facts)
    return template_tasks.answer(task.question, facts[0], subjects[0], context)


def write_copy(f: Facts, truth: Truth, style: str = "short", tone: str = "neutral") -> str:
    zh = f.lang == "zh"
    if style == "bullets":
        return "\n".join(bullets(f))
    parts = [(OPEN_ZH if zh else OPEN_EN)[tone].format(t=f.title)]
    if f.brand_shown and f.brand_shown.lower() not in f.title.lower():
        parts.append(f"{f.brand_shown}出品。" if zh else f"By {f.brand_shown}.")
    features = feature_phrases(f, 3 if style == "short" else 8)
    if features:
        parts.append(("，".join(features) + "。") if zh else (capital("; ".join(features)) + "."))
    if style == "long":
        if f.text_lang == f.lang:  # the seller's sentences that add to what is already said, not repeat it
            said = _plain(" ".join(parts))
            parts += [_ended(x, zh) for x in grounded_sentences(f.description, truth, 6) if _plain(x) not in said][:3]
        if f.rating:
            parts.append(rating_sentence(f))
    if f.price is not None:
        parts.append((PRICE_ZH if zh else PRICE_EN)[tone].format(p=f.price_text()))
    if not f.in_stock:
        parts.append("暂时缺货。" if zh else "Out of stock for now.")
    if style == "long" and (CLOSE_ZH if zh else CLOSE_EN)[tone]:
        parts.append((CLOSE_ZH if zh else CLOSE_EN)[tone])
    return join_sentences(parts)


def bullets(f: Facts) -> list[str]:
    zh = f.lang == "zh"
    lines = [f"• {'品牌' if zh else 'Brand'}：{f.brand_shown}" if zh else f"• Brand: {f.brand_shown}"] \
        if f.brand_shown else []
    lines += [f"• {a.label}：{a.shown}" if zh else f"• {capital(a.label)}: {a.shown}" for a in f.attributes[:8]]
    if f.rating:
        lines.append(f"• 评分：{f.rating}" if zh else f"• Rating: {f.rating}")
    if f.price is not None:
        lines.append(f"• 价格：{f.price_text()}" if zh else f"• Price: {f.price_text()}")
    lines.append(("• 有货" if zh else "• In stock") if f.in_stock else ("• 暂时缺货" if zh else "• Out of stock"))
    return [f.title] + lines


def feature_phrases(f: Facts, limit: int) -> list[str]:
    """The first ``limit`` of the product's attributes in words; a size that every buyer gets ("One Size") tells
    nothing and is left out."""
    return [phrase(a, f.lang) for a in f.attributes if not _says_nothing(a)][:limit]


def _says_nothing(a: Attribute) -> bool:
    return a.key.lower() == "size" and a.value.strip().lower() in ("one size", "onesize", "均码", "one-size")


def phrase(a: Attribute, lang: str) -> str:
    key = a.key.lower()
    if a.label and a.label in a.shown:  # 主动降噪 (noise_cancelling: yes)
        return a.shown
    if lang == "zh":
        return PHRASE_ZH.get(key, "{l}：{v}").format(l=a.label, v=a.shown)
    if a.value.lower() == "yes" and key not in PHRASE_EN:
        return a.label
    return PHRASE_EN.get(key, "{l}: {v}").format(l=a.label, v=a.shown)


def rating_sentence(f: Facts) -> str:
    if f.lang == "zh":
        return f"评分{f.rating}" + (f"（{f.n_reviews}条评价）。" if f.n_reviews else "。")
    count = f" across {f.n_reviews} review{'s' if f.n_reviews != 1 else ''}" if f.n_reviews else ""
    return f"Rated {f.rating}{count}."


def grounded_sentences(text: str, truth: Truth, limit: int) -> list[str]:
    """Up to ``limit`` sentences of seller text whose numbers and prices hold (a quoted "¥1" does not)."""
    checker = Checker()
    return [s for s in sentences(text) if not checker.check(s, [truth])][:limit]


def _ended(sentence: str, zh: bool) -> str:
    """A seller's sentence closed, so the next one does not run on into it."""
    return sentence if sentence.endswith((".", "!", "?", "。", "！", "？", "…")) else sentence + ("。" if zh else ".")


def _plain(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def capital(text: str) -> str:
    return text[:1].upper() + text[1:]
