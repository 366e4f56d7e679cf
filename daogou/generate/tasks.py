"""What can be written: product copy, an explanation of a recommendation, a comparison, an answer about a product."""

from __future__ import annotations

from dataclasses import dataclass

from daogou.catalog.models import Product
from daogou.errors import GenerationError
from daogou.generate.facts import Facts, Reasons, facts_of, format_price
from daogou.generate.grounding import Truth, context_truth, truth_of

KINDS = ("copy", "explain", "compare", "answer")
STYLES = ("short", "long", "bullets")
TONES = ("neutral", "friendly", "premium", "playful")
LANGS = ("en", "zh")
LABELS = "ABCD"
# (max tokens, max characters) of the output: a bound on cost and on what reaches the page.
LIMITS = {"copy.short": (90, 360), "copy.long": (260, 1400), "copy.bullets": (200, 900), "explain": (120, 520),
          "compare": (300, 1500), "answer": (130, 600)}
QUESTION_CHARS = 300


@dataclass(frozen=True)
class Task:
    kind: str
    products: tuple[Product, ...]
    lang: str = "en"
    style: str = "short"
    tone: str = "neutral"
    question: str = ""
    reasons: Reasons | None = None

    def __post_init__(self) -> None:
        _check(self.kind in KINDS, f"unknown task {self.kind!r}; known: {', '.join(KINDS)}")
        _check(self.lang in LANGS, f"unknown language {self.lang!r}; known: {', '.join(LANGS)}")
        _check(self.style in STYLES, f"unknown copy style {self.style!r}; known: {', '.join(STYLES)}")
        _check(self.tone in TONES, f"unknown tone {self.tone!r}; known: {', '.join(TONES)}")
        wanted = (2, 4) if self.kind == "compare" else (1, 1)
        _check(wanted[0] <= len(self.products) <= wanted[1],
               f"{self.kind} takes {wanted[0]}–{wanted[1]} products, got {len(self.products)}")
        _check(self.kind != "answer" or bool(self.question.strip()), "answer needs a question")

    @property
    def name(self) -> str:
        """What is stored with the text, e.g. ``copy.short.friendly``."""
        return f"copy.{self.style}.{self.tone}" if self.kind == "copy" else self.kind

    @property
    def limits(self) -> tuple[int, int]:
        return LIMITS[f"copy.{self.style}" if self.kind == "copy" else self.kind]

    @property
    def product_ids(self) -> tuple[str, ...]:
        return tuple(p.id for p in self.products)

    def labels(self) -> list[str]:
        return list(LABELS[:len(self.products)]) if self.kind == "compare" else [""]

    def facts(self) -> list[Facts]:
        return [facts_of(p, self.lang, label) for p, label in zip(self.products, self.labels())]

    def truths(self) -> tuple[list[Truth], Truth | None]:
        """The facts that ground the output: one per product, plus what the request itself says."""
        subjects = [truth_of(p, label) for p, label in zip(self.products, self.labels())]
        return subjects, self._context()

    def _context(self) -> Truth | None:
        if self.kind == "answer":
            return context_truth([self.question])
        if self.kind != "explain" or self.reasons is None:
            return None
        r, p = self.reasons, self.products[0]
        texts = [r.query, r.liked_brand]
        for q in (*r.viewed, *r.bought_with):
            texts += [q.title, q.brand, *(t.get("title", "") for t in q.translations.values())]
        if r.budget is not None:
            texts.append(format_price(r.budget, p.currency, self.lang))
        return context_truth(texts, r.budget, p.currency)


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise GenerationError(message)


def copy_task(product: Product, lang: str = "en", style: str = "short", tone: str = "neutral") -> Task:
    return Task("copy", (product,), lang, style, tone)


def explain_task(product: Product, reasons: Reasons, lang: str = "en") -> Task:
    return Task("explain", (product,), lang, reasons=reasons)


def compare_task(products: list[Product] | tuple[Product, ...], lang: str = "en") -> Task:
    return Task("compare", tuple(products), lang)


def answer_task(product: Product, question: str, lang: str = "en") -> Task:
    return Task("answer", (product,), lang, question=question.strip()[:QUESTION_CHARS])
