"""The grounding checker, and the writer's check → retry → template fallback with a scripted (fake) model."""

from __future__ import annotations

import pytest

from daogou.errors import GenerationError, UnknownNameError
from daogou.generate import (BACKENDS, Capabilities, Checker, Chunk, Lexicon, LLMConfig, Reasons, Reset, Writer,
                             compare_task, copy_task, explain_task, get_backend)
from daogou.generate.grounding import truth_of
from daogou.generate.numbers import numbers_in
from daogou.generate.output import safe_boundary
from daogou.generate.template import write
from tests.test_generate_template import BACKPACK, CONDITIONER, HEADPHONES

LEXICON = Lexicon.from_products([CONDITIONER, HEADPHONES, BACKPACK])


class Scripted:
    """A deterministic fake model: answers attempt n with ``replies[n]`` (the last one repeats), word by word."""

    name = "scripted"

    def __init__(self, replies: list[str], languages=("en", "zh"), fail: bool = False):
        self.replies, self.fail = replies, fail
        self.capabilities = Capabilities(streaming=True, languages=languages)
        self.requests: list = []
        self.closed = 0

    @property
    def model_id(self) -> str:
        return "scripted-1"

    def stream(self, request):
        self.requests.append(request)
        reply = self.replies[min(len(self.requests) - 1, len(self.replies) - 1)]
        try:
            if self.fail:
                raise GenerationError("server went away")
            for word in reply.split(" "):
                yield word + " "
        finally:
            self.closed += 1

    def close(self) -> None:
        pass


def events_of(writer: Writer, task):
    """All events, the text on the page at the end (chunks after the last reset), and the result."""
    events = list(writer.stream(task))
    resets = [i for i, e in enumerate(events) if isinstance(e, Reset)]
    shown = "".join(e.text for e in events[(resets[-1] if resets else 0):] if isinstance(e, Chunk))
    return events, shown, events[-1].result


@pytest.mark.parametrize("text,expected", [
    ("Now ¥1,299.50 only", [(1299.5, "CNY")]),
    ("售价259元，三百九十九元，两千块", [(259, "CNY"), (399, "CNY"), (2000, "CNY")]),
    ("£4.99, 30 pounds, USD 25, €3", [(4.99, "GBP"), (30, "GBP"), (25, "USD"), (3, "EUR")]),
    ("sizes 36,37 · 6.1\" · 3万 · 十二岁", [(36, ""), (37, ""), (6.1, ""), (30000, ""), (12, "")]),
    ("P00001 X3210 一款 十分 千万", []),
])
def test_numbers_and_prices_in_english_and_chinese(text, expected):
    assert [(n.value, n.currency) for n in numbers_in(text)] == expected


def test_checker_prices_numbers_brands_and_attributes():
    checker, cond = Checker(LEXICON), [truth_of(CONDITIONER)]
    assert checker.check("Folliq conditioner, 750ml, ¥259 (259元, 259.00 CNY).", cond) == []
    assert [v.kind for v in checker.check("Only ¥199!", cond)] == ["price"]
    assert [v.kind for v in checker.check("Just £259.", cond)] == ["price"]  # right number, wrong currency
    assert [v.value for v in checker.check("A 500ml bottle.", cond)] == ["500"]
    assert [(v.kind, v.value) for v in checker.check("Made by Voyago.", cond)] == [("brand", "Voyago")]
    assert [(v.kind, v.value) for v in checker.check("Soft canvas and grey.", cond)] == \
        [("attribute", "canvas"), ("attribute", "grey")]
    phones = [truth_of(HEADPHONES)]
    assert checker.check("声沐耳机，灰色，铝合金材质，续航40h，969元。", phones) == []
    assert [(v.kind, v.value) for v in checker.check("黑色款，帆布材质。", phones)] == \
        [("attribute", "黑色"), ("attribute", "帆布")]
    assert [v.value for v in checker.check("三百九十九元", phones)] == ["三百九十九元"]


def test_checker_attributes_numbers_to_the_right_product():
    checker = Checker(LEXICON)
    pair = [truth_of(CONDITIONER, "A"), truth_of(BACKPACK, "B")]
    assert checker.check("[A] costs ¥259 and [B] costs ¥119. Voyago is black canvas.", pair) == []
    wrong = checker.check("[A] costs ¥119 and [B] costs ¥259.", pair)
    assert [(v.value, v.product_id) for v in wrong] == [("¥119", "P1"), ("¥259", "P3")]
    assert [v.value for v in checker.check("Product A is made of canvas.", pair)] == ["canvas"]
    assert [v.value for v in checker.check("Folliq: 15L.", pair)] == ["15"]  # a brand names its product
    assert checker.check("Prices: ¥259 and ¥119 for the 2 of them.", pair) == []  # no mention: either product


def test_explanation_context_grounds_the_budget_and_viewed_products():
    task = explain_task(HEADPHONES, Reasons(viewed=(BACKPACK,), query="under 1000", budget=1000.0))
    subjects, context = task.truths()
    checker = Checker(LEXICON)
    assert checker.check("You viewed the Voyago 15L backpack and want something under ¥1,000: ¥969.", subjects,
                         context) == []
    assert [v.value for v in checker.check("Under ¥800!", subjects, context)] == ["¥800"]


def test_safe_boundary_holds_back_unfinished_numbers_and_words():
    assert safe_boundary("It costs ¥1,2") == len("It costs ")
    assert safe_boundary("Only 259.") == len("Only ")
    assert safe_boundary("售价三百") == len("售价")
    assert safe_boundary("售价259元") == len("售价259元")


def test_registry_names_and_unknown_backend():
    assert {"llamacpp", "openai", "template"} <= set(BACKENDS.names())
    with pytest.raises(UnknownNameError, match="unknown LLM backend 'nope'"):
        get_backend(LLMConfig(backend="nope"))
    with pytest.raises(GenerationError, match="base URL"):
        get_backend(LLMConfig(backend="openai"))


def test_extension_backend_registers_like_builtins():
    BACKENDS.register("scripted-test", lambda config: Scripted(["Folliq Tea Tree Conditioner, ¥259."]))
    backend = get_backend(LLMConfig(backend="scripted-test"))
    result = Writer(backend, LEXICON).copy([CONDITIONER])[0]
    assert (result.text, result.backend, result.attempts) == ("Folliq Tea Tree Conditioner, ¥259.", "scripted", 1)


def test_grounded_first_draft_is_streamed_as_written_a_sentence_at_a_time():
    text = "A tea tree conditioner from Folliq. It holds 750ml. Yours for ¥259."
    writer = Writer(Scripted([text]), LEXICON)
    events, shown, result = events_of(writer, copy_task(CONDITIONER))
    assert shown == result.text == text
    chunks = [e.text for e in events if isinstance(e, Chunk)]
    assert chunks == ["A tea tree conditioner from Folliq.", " It holds 750ml.", " Yours for ¥259."]
    assert not any(isinstance(e, Reset) for e in events)
    assert (result.backend, result.model, result.attempts, result.fallback) == ("scripted", "scripted-1", 1, False)
    assert result.first_token_s is not None and result.tokens == len(text.split())
    assert writer.stats.first_try_ok == 1 and writer.stats.violations_first == 0


def test_violation_is_retried_with_the_rejected_values_named():
    model = Scripted(["A Folliq conditioner. Now only ¥99!", "Folliq conditioner for ¥259."])
    writer = Writer(model, LEXICON)
    events, shown, result = events_of(writer, copy_task(CONDITIONER))
    assert result.text == "Folliq conditioner for ¥259." and result.attempts == 2 and not result.fallback
    assert [v.value for v in result.rejected] == ["¥99"]
    assert "¥99" in model.requests[1].messages[-1]["content"]
    assert any(isinstance(e, Reset) for e in events) and shown == result.text
    assert "¥99" not in "".join(e.text for e in events if isinstance(e, Chunk))
    s = writer.stats
    assert (s.violations_first, s.claims_first, s.retried, s.retry_ok, s.fallbacks) == (1, 1, 1, 1, 0)


def test_two_failures_fall_back_to_the_template_and_nothing_ungrounded_is_shown():
    model = Scripted(["A great Folliq conditioner. Made of canvas, now ¥99 and 2 for 1!"])
    writer = Writer(model, LEXICON)
    task = copy_task(CONDITIONER)
    events, shown, result = events_of(writer, task)
    assert result.text == write(task) and result.backend == "template" and result.fallback
    assert result.attempts == 2 and len(model.requests) == 2 and model.closed == 2
    everything = "".join(e.text for e in events if isinstance(e, Chunk))
    assert "A great Folliq conditioner." in everything  # the sound first sentence was shown, then reset
    assert "canvas" not in everything and "¥99" not in everything and shown == result.text
    assert sum(isinstance(e, Reset) for e in events) == 2
    assert writer.stats.fallbacks == 1 and writer.stats.ungrounded_shown == 0


def test_a_failing_first_sentence_is_never_shown_in_part():
    model = Scripted(["Great Folliq conditioner, made of canvas, now ¥99!"])
    events, shown, result = events_of(Writer(model, LEXICON), copy_task(CONDITIONER))
    assert not any(isinstance(e, Reset) for e in events) and result.backend == "template"
    assert "Great" not in "".join(e.text for e in events if isinstance(e, Chunk))


def test_counting_mode_lets_a_failing_draft_finish():
    from daogou.generate import WriterConfig
    writer = Writer(Scripted(["Folliq at ¥99, made of canvas, 3 for 2."]), LEXICON,
                    WriterConfig(stop_at_violation=False, retries=0))
    result = writer.copy([CONDITIONER])[0]
    assert writer.stats.claims_first == 4 and result.backend == "template"


@pytest.mark.parametrize("reply,problem", [
    ("", "empty"), ("   ...   ", "empty"), ("!!!!!!!!!!!!!!!!!!!!", "repeated characters"),
    ("Buy it now. Buy it now. Buy it now. Buy it now.", "repeated sentences"),
    ("这是一款很好的护发素，适合所有发质，推荐购买，物超所值，值得拥有。", "not English"),
])
def test_empty_or_broken_output_falls_back(reply, problem):
    writer = Writer(Scripted([reply]), LEXICON)
    result = writer.copy([CONDITIONER])[0]
    assert result.backend == "template" and problem in result.problems
    assert writer.stats.broken == 2


@pytest.mark.parametrize("reply", [
    "Folliq conditioner" + " so soft and kind" * 400,
    " ".join(f"Folliq conditioner is {word} and gentle." for word in ("soft kind mild fresh calm light clean pure "
                                                                      "rich smooth silky airy bright neat").split()),
])
def test_output_length_is_bounded_and_the_model_is_stopped(reply):
    model = Scripted([reply])
    _, shown, result = events_of(Writer(model, LEXICON), copy_task(CONDITIONER))
    assert len(result.text) <= copy_task(CONDITIONER).limits[1] and shown == result.text
    assert result.backend == "scripted" and result.text.endswith(("kind", "."))
    assert result.tokens < 100 and model.closed == 1  # stopped early, not run to the end


def test_backend_errors_fall_back_to_the_template():
    writer = Writer(Scripted(["x"], fail=True), LEXICON)
    result = writer.copy([CONDITIONER])[0]
    assert result.backend == "template" and result.problems[0].startswith("backend error: server went away")


def test_language_the_model_does_not_write_goes_to_the_template():
    model = Scripted(["anything"], languages=("en",))
    writer = Writer(model, LEXICON)
    result = writer.copy([CONDITIONER], lang="zh")[0]
    assert model.requests == [] and result.backend == "template" and result.text.endswith("售价259元。")
    assert writer.stats.language_fallbacks == 1


def test_comparison_with_a_misattributed_price_is_rejected():
    from daogou.generate import WriterConfig
    model = Scripted(["[A] is cheaper at ¥119 while [B] costs ¥259."])
    writer = Writer(model, LEXICON, WriterConfig(stop_at_violation=False))
    result = writer.run_one(compare_task([CONDITIONER, BACKPACK]))
    assert result.backend == "template" and {v.value for v in result.rejected} == {"¥119", "¥259"}
    assert "Lowest price: [B] at ¥119." in result.text


def test_unreachable_openai_endpoint_falls_back_to_the_template():
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again below: nothing listens there
    backend = get_backend(LLMConfig(backend="openai", base_url=f"http://127.0.0.1:{port}/v1", timeout_s=5))
    writer = Writer(backend, LEXICON)
    result = writer.copy([CONDITIONER])[0]
    assert result.backend == "template" and result.problems[0].startswith("backend error: cannot reach")
    assert writer.stats.broken == 2 and writer.stats.fallbacks == 1
