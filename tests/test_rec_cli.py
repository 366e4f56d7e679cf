"""The recommendation commands end to end, as a user runs them: train, evaluate (with report), recommend,
pretrain; bad input gives a clear message and exit status 1."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import cli_json, run_cli


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("cli") / "home"
    cli_json("demo", "--store-only", "--products", "300", "--shoppers", "200", home=home)
    return home


def test_train_evaluate_recommend(demo):
    knn = cli_json("train", "--model", "item-knn", "--encoder", "none", home=demo)
    assert knn["model"] == "item-knn" and Path(knn["bundle"]).is_dir()
    rec = cli_json("train", "--model", "daogou-rec", "--encoder", "hashing", "--epochs", "2", home=demo)
    assert rec["epochs"] == 2 and rec["valid_ndcg@10"] > 0
    out = cli_json("evaluate", home=demo)
    assert set(out["results"]) == {"item-knn", "daogou-rec"}
    for r in out["results"].values():
        assert 0 <= r["full"]["ndcg@10"] <= 1 and r["full"]["cases"] > 50
        assert r["sampled_100"]["ndcg@10"] >= r["full"]["ndcg@10"]
    report = Path(out["report"])
    assert report.exists() and {"metrics.png", "history_length.png", "training_curves.png"} <= {
        p.name for p in report.parent.glob("*.png")}
    recs = cli_json("recommend", "U0003", "--n", "5", home=demo)
    assert len(recs["items"]) == 5 and all(i["id"].startswith("P") for i in recs["items"])
    anon = cli_json("recommend", "--query", "headphones", "--filter", "price<=500", home=demo)
    assert anon["items"] and all(i["price"] <= 500 for i in anon["items"])


def test_bad_options_are_reported_clearly(demo):
    proc = run_cli("train", "--model", "daogou-rec", "--encoder", "none", "--option", "dimension=8", home=demo)
    assert proc.returncode == 1 and "unknown option" in proc.stderr and "dimension" in proc.stderr
    proc = run_cli("train", "--model", "sasrec", home=demo)
    assert proc.returncode == 2 and "sasrec" in proc.stderr
    proc = run_cli("recommend", "--model", str(demo / "nothing-here"), home=demo)
    assert proc.returncode == 1 and "not a model bundle" in proc.stderr
    proc = run_cli("train", "--model", "daogou-rec", "--option", "dim=abc", "--encoder", "none", home=demo)
    assert proc.returncode == 1 and "error:" in proc.stderr


def test_evaluate_needs_a_trained_model(tmp_path):
    home = tmp_path / "empty"
    cli_json("demo", "--store-only", "--products", "50", "--shoppers", "20", home=home)
    proc = run_cli("evaluate", home=home)
    assert proc.returncode == 1 and "daogou train" in proc.stderr


def test_pretrain_lowers_heldout_perplexity_and_the_encoder_loads(demo):
    out = cli_json("pretrain", "--epochs", "1", "--budget", "60", home=demo)
    assert out["perplexity_after"] < out["perplexity_before"]
    from daogou.encode.base import get_encoder
    enc = get_encoder(out["encoder"], reuse=False)
    vec = enc.encode(["wireless headphones"], kind="query")
    assert vec.shape == (1, 384)
