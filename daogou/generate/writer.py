"""The writer: runs tasks on a backend with the grounding check, one retry, and the template as the last resort.

Streaming holds back each sentence until it is complete and the text so far passes the checker, so nothing
ungrounded is ever released. When a model's attempt fails after some text went out, a
:class:`Reset` tells the page to clear it before the next attempt streams. ``run`` is the stream, collected.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field

from daogou.catalog.models import Product
from daogou.errors import GenerationError
from daogou.generate.base import LLMBackend, Request, backend_lock
from daogou.generate.facts import Reasons
from daogou.generate.grounding import Checker, Lexicon, Truth, Violation
from daogou.generate.output import broken, cut, sentence_end
from daogou.generate.prompts import PROMPT_VERSION, build_messages
from daogou.generate.tasks import Task, answer_task, compare_task, copy_task, explain_task
from daogou.generate.template import TemplateBackend


@dataclass(frozen=True)
class WriterConfig:
    retries: int = 1                 # model attempts after the first that failed the check
    stop_at_violation: bool = True   # False: let a failing attempt finish (benchmarks count all its claims)
    temperature: float = 0.0
    seed: int = 0


@dataclass
class Stats:
    """Counts over everything a writer produced. ``ungrounded_shown`` is 0 by construction and tested."""

    tasks: int = 0
    model_attempts: int = 0
    first_try_ok: int = 0
    violations_first: int = 0        # tasks whose first model attempt broke grounding
    claims_first: int = 0            # ungrounded claims in first attempts
    retried: int = 0
    retry_ok: int = 0
    broken: int = 0                  # attempts with empty, garbled, repeating or wrong-language output
    fallbacks: int = 0               # tasks finished by the template backend after a model failed
    language_fallbacks: int = 0      # tasks sent to the template because the model does not write that language
    template_repairs: int = 0        # template sentences dropped by the checker (should stay 0)
    ungrounded_shown: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Result:
    task: str
    product_ids: tuple[str, ...]
    lang: str
    text: str
    backend: str                     # the backend whose text this is (template after a fallback)
    model: str
    requested_backend: str
    prompt_version: str
    attempts: int
    fallback: bool
    rejected: tuple[Violation, ...] = ()
    problems: tuple[str, ...] = ()
    first_token_s: float | None = None   # of the first model attempt: latency to its first token
    tokens: int = 0                      # tokens of that attempt
    attempt_s: float = 0.0               # duration of that attempt
    seconds: float = 0.0                 # everything, retries and fallback included

    def to_dict(self) -> dict:
        d = asdict(self)
        d["rejected"] = [v.to_dict() for v in self.rejected]
        return d


@dataclass(frozen=True)
class Chunk:
    text: str


@dataclass(frozen=True)
class Reset:
    reason: str


@dataclass(frozen=True)
class Done:
    result: Result


@dataclass
class _Attempt:
    text: str = ""
    released: int = 0
    violations: list[Violation] = field(default_factory=list)
    problem: str = ""
    first_token_s: float | None = None
    tokens: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.violations and not self.problem


class Writer:
    """Writes grounded text with ``backend``; ``lexicon`` holds the catalog's brands and attribute values."""

    def __init__(self, backend: LLMBackend, lexicon: Lexicon | None = None, config: WriterConfig = WriterConfig()):
        self.backend = backend
        self.config = config
        self.checker = Checker(lexicon)
        self.template = backend if isinstance(backend, TemplateBackend) else TemplateBackend()
        self.stats = Stats()

    # ------------------------------------------------------------------ batch first, single items on top

    def run(self, tasks: Sequence[Task]) -> list[Result]:
        return [self.run_one(task) for task in tasks]

    def run_one(self, task: Task) -> Result:
        for event in self.stream(task):
            if isinstance(event, Done):
                return event.result
        raise AssertionError("stream ended without a result")

    def copy(self, products: Sequence[Product], lang: str = "en", style: str = "short",
             tone: str = "neutral") -> list[Result]:
        return self.run([copy_task(p, lang, style, tone) for p in products])

    def explain(self, product: Product, reasons: Reasons, lang: str = "en") -> Result:
        return self.run_one(explain_task(product, reasons, lang))

    def compare(self, products: Sequence[Product], lang: str = "en") -> Result:
        return self.run_one(compare_task(list(products), lang))

    def answer(self, product: Product, question: str, lang: str = "en") -> Result:
        return self.run_one(answer_task(product, question, lang))

    # ------------------------------------------------------------------ streaming

    def stream(self, task: Task) -> Iterator[Chunk | Reset | Done]:
        started = time.perf_counter()
        self.stats.tasks += 1
        subjects, context = task.truths()
        rejected: list[Violation] = []
        problems: list[str] = []
        use_model = self.backend is not self.template
        if use_model and task.lang not in self.backend.capabilities.languages:
            use_model = False
            self.stats.language_fallbacks += 1
        attempts = (1 + self.config.retries) if use_model else 0
        first: _Attempt | None = None
        passed: tuple[int, _Attempt] | None = None
        with backend_lock(self.backend) if use_model else nullcontext():  # templates need no lock
            for n in range(attempts):
                request = Request(task, build_messages(task, rejected), task.limits[0], self.config.temperature,
                                  self.config.seed + n)
                attempt = yield from self._attempt(self.backend, request, subjects, context)
                first = first or attempt
                self._count(n, attempt)
                if attempt.ok:
                    passed = (n, attempt)
                    break
                rejected += attempt.violations
                problems += [attempt.problem] if attempt.problem else []
                if attempt.released:
                    yield Reset("ungrounded: " + ", ".join(v.value for v in attempt.violations) if attempt.violations
                                else attempt.problem)
        if passed is not None:  # outside the lock: the consumer may stop reading at Done
            n, attempt = passed
            yield Done(self._result(task, attempt.text, first, self.backend, n + 1, False, rejected, problems,
                                    started))
            return
        self.stats.fallbacks += 1 if use_model else 0
        final = yield from self._template(task, subjects, context)
        yield Done(self._result(task, final.text, first or final, self.template, attempts, use_model, rejected,
                                problems, started))

    def _count(self, n: int, attempt: _Attempt) -> None:
        self.stats.model_attempts += 1
        self.stats.broken += bool(attempt.problem)
        if n == 0:
            self.stats.first_try_ok += attempt.ok
            self.stats.violations_first += bool(attempt.violations)
            self.stats.claims_first += len(attempt.violations)
        else:
            self.stats.retried += 1
            self.stats.retry_ok += attempt.ok

    def _attempt(self, backend: LLMBackend, request: Request, subjects: list[Truth], context: Truth | None):
        out = _Attempt()
        t0 = time.perf_counter()
        pieces = backend.stream(request)
        try:
            yield from self._consume(out, pieces, subjects, context, request, t0)
        except GenerationError as exc:  # the model failed (server gone, model error): retry, then the template
            out.problem = f"backend error: {exc}"
        finally:
            close = getattr(pieces, "close", None)
            if close:
                close()
        out.text = out.text.rstrip()
        out.seconds = time.perf_counter() - t0
        if out.violations and not self.config.stop_at_violation:
            out.violations = self.checker.check(out.text, subjects, context)  # every claim, for the counts
        if out.ok:
            out.problem = broken(out.text, request.task.lang, final=True)
        if out.ok:
            yield from self._release(out, subjects, context, request.task.lang, len(out.text))
        return out

    def _consume(self, out: _Attempt, pieces, subjects, context, request: Request, t0: float):
        max_chars = request.task.limits[1]
        for piece in pieces:
            if not piece:
                continue
            out.tokens += 1
            if out.first_token_s is None:
                out.first_token_s = time.perf_counter() - t0
            out.text += piece
            full = len(out.text) >= max_chars
            if full:  # never shorter than what is already on the page
                out.text = out.text[:max(len(cut(out.text, max_chars).rstrip()), out.released)]
            upto = len(out.text) if full else self._boundary(out, max_chars)
            stop = yield from self._release(out, subjects, context, request.task.lang, upto)
            if stop or full:
                return

    @staticmethod
    def _boundary(out: _Attempt, max_chars: int) -> int:
        """Where released text may end now: a sentence end. A sentence is judged whole (what it claims, whether it
        is about the products at all) before any of it reaches the page, and a cut at the limit ends there too."""
        return max(out.released, len(out.text[:sentence_end(out.text)].rstrip()))

    def _release(self, out: _Attempt, subjects, context, lang: str, upto: int, model: bool = True):
        """Check the text up to ``upto`` and emit what is new; True when the attempt should stop."""
        if upto <= out.released or not out.ok:
            return bool(out.problem) or (bool(out.violations) and self.config.stop_at_violation)
        candidate = out.text[:upto]
        violations = self.checker.check(candidate, subjects, context)
        if violations:
            out.violations = violations
            return self.config.stop_at_violation
        out.problem = broken(candidate, lang, final=False) if model else ""
        if out.problem:
            return True
        chunk = candidate[out.released:]
        if out.released == 0:
            chunk = chunk.lstrip()
        out.released = upto
        if chunk:
            yield Chunk(chunk)
        return False

    def _template(self, task: Task, subjects: list[Truth], context: Truth | None):
        request = Request(task)
        text = "".join(self.template.stream(request)).strip()
        violations = self.checker.check(text, subjects, context)
        if violations:  # never expected: drop the sentences the checker rejects rather than show them
            self.stats.template_repairs += 1
            text = _without(text, violations) or task.facts()[0].title
        out = _Attempt(text=text)
        if self.checker.check(text, subjects, context):
            out.text = task.facts()[0].title
        yield from self._release(out, subjects, context, task.lang, len(out.text), model=False)
        self.stats.ungrounded_shown += len(self.checker.check(out.text, subjects, context))
        return out

    def _result(self, task: Task, text: str, timing: _Attempt, backend: LLMBackend, attempts: int, fallback: bool,
                rejected: list[Violation], problems: list[str], started: float) -> Result:
        """The shown ``text``; timings of the first model attempt (``timing``), the one users wait for."""
        return Result(task.name, task.product_ids, task.lang, text, backend.name, backend.model_id,
                      self.backend.name, PROMPT_VERSION, attempts, fallback, tuple(rejected), tuple(problems),
                      timing.first_token_s, timing.tokens, round(timing.seconds, 4),
                      round(time.perf_counter() - started, 4))


def _without(text: str, violations: list[Violation]) -> str:
    from daogou.generate.facts import join_sentences, sentences
    bad = {v.value for v in violations}
    return join_sentences([s for s in sentences(text) if not any(b in s for b in bad)])
