"""The command line as a user runs it: real subprocesses, JSON output, exit codes, no tracebacks."""

from __future__ import annotations

from daogou.catalog.demo_store import load_demo_truth
from tests.conftest import cli_json, run_cli


def test_demo_builds_once_and_reports(home):
    out = cli_json("demo", "--store-only", home=home)
    assert out["demo"]["built"] is True
    s = out["stats"]
    assert s["products"] == 2000 and s["shoppers"] == 1000 and s["category_paths"] >= 12
    assert set(s["product_languages"]) == {"en", "zh"}
    assert {"search", "view", "cart", "purchase"} <= set(s["events_by_type"])
    assert (home / "images" / "P00001.png").exists()
    truth = load_demo_truth(home)
    assert len(truth.shoppers) == 1000 and truth.co_purchase and truth.hidden_colour
    again = cli_json("demo", "--store-only", home=home)
    assert again["demo"]["built"] is False and again["stats"]["events"] == s["events"]
    split = cli_json("split", home=home)
    assert split["test_targets"] > 500 and split["kind"] == "leave_one_out"


def test_demo_seed_changes_store_and_home_from_env(tmp_path):
    env = {"DAOGOU_HOME": str(tmp_path / "envhome")}
    proc = run_cli("demo", "--store-only", "--seed", "7", "--products", "300", "--shoppers", "50", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "envhome" / "daogou.db").exists()
    proc2 = run_cli("demo", "--store-only", "--seed", "7", "--products", "300", "--shoppers", "50", "--force", "--json",
                    env=env)
    assert proc2.returncode == 0
    assert '"built": true' in proc2.stdout


def test_demo_refuses_a_home_with_other_data(tmp_path, home):
    seed = tmp_path / "s.csv"
    seed.write_text('1,"q",["a"],[]\n', encoding="utf-8")
    cli_json("import", "seed-csv", str(seed), home=home)
    proc = run_cli("demo", "--store-only", home=home)
    assert proc.returncode == 1 and "already holds other data" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_stats_human_output(home):
    run_cli("demo", "--store-only", "--products", "200", "--shoppers", "30", home=home, check=True)
    proc = run_cli("stats", home=home, check=True)
    assert "products   200" in proc.stdout and "sparsity" in proc.stdout


def test_bad_home_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    proc = run_cli("stats", home=blocker / "sub")
    assert proc.returncode == 1 and "cannot create home directory" in proc.stderr
    assert "Traceback" not in proc.stderr
