"""``daogou copy``: batch copy in a real subprocess, stored with backend/model/prompt version, resumable."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from daogou.catalog.demo import DemoConfig
from daogou.catalog.demo_store import build_demo_store
from daogou.catalog.store import Store
from daogou.config import StoreConfig
from daogou.generate import LLMConfig, Writer, get_backend
from daogou.generate.copy_store import CopyJob, catalog_lexicon, copy_table, run_copy, stored_copy
from tests.conftest import cli_json, run_cli


@pytest.fixture
def demo_home(home):
    with Store.open(StoreConfig(home=home)) as store:
        build_demo_store(store, DemoConfig(n_products=40, n_shoppers=5))
    return home


def test_copy_ids_then_all_resumes(demo_home):
    first = cli_json("copy", "--ids", "P00001,P00002", "--ids", "P00003", "--backend", "template", home=demo_home)
    assert (first["written"], first["up_to_date"], first["backend"], first["model"]) == (3, 0, "template",
                                                                                           "template-1")
    assert first["stats"]["ungrounded_shown"] == 0 and first["samples"][0]["id"] == "P00001"
    rest = cli_json("copy", "--all", "--backend", "template", home=demo_home)
    assert (rest["products"], rest["written"], rest["up_to_date"]) == (40, 37, 3)
    again = cli_json("copy", "--all", "--backend", "template", home=demo_home)
    assert (again["written"], again["up_to_date"]) == (0, 40)
    zh = cli_json("copy", "--all", "--lang", "zh", "--style", "bullets", "--backend", "template", "--limit", "5",
                  home=demo_home)
    assert zh["written"] == 5 and zh["task"] == "copy.bullets.neutral" and "• 价格：" in zh["samples"][0]["text"]


def test_stored_rows_carry_backend_model_and_prompt_version(demo_home):
    cli_json("copy", "--ids", "P00001", "--backend", "template", "--tone", "friendly", home=demo_home)
    with Store.open(StoreConfig(home=demo_home)) as store:
        rows = stored_copy(store, "P00001", task="copy.short.friendly")
    assert len(rows) == 1
    row = rows[0]
    assert (row["backend"], row["model"], row["final_backend"], row["prompt_version"]) == \
        ("template", "template-1", "template", "p1")
    assert row["text"].startswith("Say hello to the") and row["info"]["attempts"] == 0


def test_changed_product_is_written_again_and_force_rewrites(demo_home):
    with Store.open(StoreConfig(home=demo_home)) as store:
        writer = Writer(get_backend(LLMConfig(backend="template")), catalog_lexicon(store))
        assert run_copy(store, writer, ["P00001", "P00002", "NOPE"])["missing"] == 1
        p = store.get_product("P00001")
        p.price = 1234.0
        with store.transaction() as conn:
            store.write_products(conn, [p])
        report = run_copy(store, writer, ["P00001", "P00002"])
        assert (report["written"], report["up_to_date"]) == (1, 1)
        assert "¥1,234" in stored_copy(store, "P00001")[0]["text"]
        assert run_copy(store, writer, ["P00001", "P00002"], CopyJob(force=True))["written"] == 2
        with store.engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(copy_table(store))).scalar() == 2


def test_interrupted_run_keeps_finished_batches(demo_home):
    with Store.open(StoreConfig(home=demo_home)) as store:
        writer = Writer(get_backend(LLMConfig(backend="template")), catalog_lexicon(store))
        calls = {"n": 0}
        original = writer.run

        def dies_on_third_batch(tasks):
            calls["n"] += 1
            if calls["n"] == 3:
                raise KeyboardInterrupt
            return original(tasks)
        writer.run = dies_on_third_batch
        with pytest.raises(KeyboardInterrupt):
            run_copy(store, writer, None, CopyJob(batch=8))
        writer.run = original
        resumed = run_copy(store, writer, None, CopyJob(batch=8))
    assert (resumed["up_to_date"], resumed["written"]) == (16, 24)


def test_copy_usage_and_errors(demo_home):
    proc = run_cli("copy", "--backend", "template", home=demo_home)
    assert proc.returncode == 2 and "--all or --ids" in proc.stderr
    bad = run_cli("copy", "--all", "--llm", "nope", home=demo_home)  # a usage error naming the registry's choices
    assert bad.returncode == 2 and "'nope' is not one of 'auto', 'llamacpp', 'openai', 'template'" in bad.stderr
    proc = run_cli("copy", "--all", "--backend", "openai", home=demo_home)
    assert proc.returncode == 1 and "base URL" in proc.stderr
    env_backend = run_cli("copy", "--ids", "P00001", "--json", home=demo_home, env={"DAOGOU_LLM_BACKEND": "template"})
    assert json.loads(env_backend.stdout)["backend"] == "template"
