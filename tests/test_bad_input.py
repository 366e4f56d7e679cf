"""Bad input: the bad line is reported (file:line, field, reason) and quarantined, the rest imported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from daogou.catalog.importers import ImportOptions, run_import
from daogou.catalog.importers.seed_csv import split_seed_line
from tests.conftest import cli_json, run_cli

SEED = """user_id,query,browsed_products,purchased_products
1,"iphone 14 pro max case",["case1","case2","case3"],["case1"]
2,"running shoes","[""shoe1"",""shoe2""]","[""shoe2""]"
3,蓝牙耳机 不要小米,[ear1, ear2],[]
,"no user here",["case1"],[]
4,"phone",['phone1'],['phone1']
"""


def _quarantine(home: Path) -> list[dict]:
    path = home / "quarantine.jsonl"
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def test_seed_line_forms():
    assert split_seed_line('1,"iphone 14 pro max case",["case1","case2","case3"],["case1"]') == \
        ["1", "iphone 14 pro max case", ["case1", "case2", "case3"], ["case1"]]
    assert split_seed_line('2,"a ""quoted"" q","[""x"",""y""]",[]') == ["2", 'a "quoted" q', ["x", "y"], []]
    assert split_seed_line("3,plain,[a, b],['c']") == ["3", "plain", ["a", "b"], ["c"]]


def test_seed_csv_broken_row_cli(tmp_path, home):
    seed = tmp_path / "seed.csv"
    seed.write_text(SEED, encoding="utf-8")
    out = cli_json("import", "seed-csv", str(seed), home=home, expect=3)
    assert out["status"] == "rejects"
    t = out["totals"]
    # good lines: 1 search + 3 views + 1 purchase; 1 + 2 + 1; 1 + 2 + 0; 1 + 1 + 1
    assert t["events_added"] == 5 + 4 + 3 + 3 and t["rejected"] == 1
    reject = out["files"][0]["rejects"][0]
    assert reject["where"] == f"{seed}:5" and reject["field"] == "user_id" and "empty" in reject["reason"]
    q = _quarantine(home)
    assert len(q) == 1 and q[0]["line"] == 5 and q[0]["raw"].startswith(',"no user here"')
    again = cli_json("import", "seed-csv", str(seed), home=home)
    assert again["status"] == "skipped" and again["totals"]["events_added"] == 0
    forced = cli_json("import", "seed-csv", str(seed), "--force", home=home, expect=3)
    assert forced["totals"]["events_added"] == 0  # content identity: nothing doubles
    assert len(_quarantine(home)) == 1  # the same reject is not quarantined twice
    stats = cli_json("stats", home=home)
    assert stats["events"] == 15 and stats["events_by_type"] == {"purchase": 3, "search": 4, "view": 8}


def test_seed_csv_event_order(tmp_path, store):
    seed = tmp_path / "seed.csv"
    seed.write_text(SEED, encoding="utf-8")
    run_import(store, "seed-csv", seed, progress=False)
    frame = store.events_frame()
    one = frame[frame.shopper_id == "1"]
    assert one["type"].tolist() == ["search", "view", "view", "view", "purchase"]
    assert one["product_id"].tolist()[1:] == ["case1", "case2", "case3", "case1"]
    assert one["query"].iloc[0] == "iphone 14 pro max case" and one["session_id"].nunique() == 1


EVENTS_BAD = (
    b"shopper_id,session_id,timestamp,type,product_id,query\n"
    b"u1,s1,2026-01-01T00:00:00Z,view,p1,\n"
    b"u1,s1,2026-01-01T00:01:00Z,view,p1\n"                 # line 3: wrong column count
    b"u1,s1,yesterday,view,p1,\n"                           # line 4: bad timestamp
    b",s1,2026-01-01T00:02:00Z,view,p1,\n"                  # line 5: empty shopper id
    b"u2,s2,2026-01-01T00:03:00Z,view,p\xff\xfe,\n"         # line 6: bad encoding
    b"u2,s2,2026-01-01T00:04:00Z,teleport,p1,\n"            # line 7: unknown type
    b'u2,s2,2026-01-01T00:05:00Z,search,,"red ""running"" shoes"\n'
    b"u2,s2,2026-01-01T00:06:00Z,purchase,p9,\n"            # line 9: unknown product (strict only)
)


def test_events_bad_rows_reported_rest_kept(tmp_path, home):
    path = tmp_path / "events.csv"
    path.write_bytes(EVENTS_BAD)
    proc = run_cli("import", "events", str(path), home=home)
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stderr
    for where, reason in ((3, "expected 6 columns, found 5"), (4, "not a timestamp"), (5, "empty id"),
                          (6, "bad encoding"), (7, "unknown event type")):
        assert f"{path}:{where}:" in proc.stdout and reason in proc.stdout, (where, proc.stdout)
    stats = cli_json("stats", home=home)
    assert stats["events"] == 3  # lines 2, 8, 9
    assert [q["line"] for q in _quarantine(home)] == [3, 4, 5, 6, 7]
    assert "\\xff" in _quarantine(home)[3]["raw"]  # undecodable bytes kept visibly


def test_strict_rejects_unknown_products(tmp_path, store):
    from daogou.catalog.models import Product
    with store.transaction() as conn:
        store.write_products(conn, [Product("p1", title="known")])
    path = tmp_path / "events.csv"
    path.write_bytes(EVENTS_BAD)
    report = run_import(store, "events", path, ImportOptions(strict=True), progress=False).to_dict()
    assert report["totals"]["events_added"] == 2  # lines 2 and 8
    strict_reject = [r for r in report["files"][0]["rejects"] if r["where"].endswith(":9")]
    assert strict_reject and "unknown product 'p9'" in strict_reject[0]["reason"]
    assert store.get_product("p9") is None and store.count("products") == 1


def test_products_bad_price_and_header_mismatch(tmp_path, store):
    path = tmp_path / "products.csv"
    path.write_text("id,title,price,category\n"
                    "p1,Good shoe,¥399,Shoes > Running\n"
                    "p2,Bad price,cheap,Shoes\n"
                    "p3,Fine,12.5,Shoes\n", encoding="utf-8")
    report = run_import(store, "products", path, progress=False).to_dict()
    assert report["status"] == "rejects" and report["totals"]["products_added"] == 2
    assert report["files"][0]["rejects"] == [{"where": f"{path}:3", "field": "price",
                                              "reason": "not a number: 'cheap'"}] or \
        report["files"][0]["rejects"][0]["field"] == "price"


def test_changed_products_update_not_duplicate(tmp_path, store):
    path = tmp_path / "p.csv"
    path.write_text("id,title,price\np1,Shoe,10\np2,Hat,5\n", encoding="utf-8")
    assert run_import(store, "products", path, progress=False).to_dict()["totals"]["products_added"] == 2
    path.write_text("id,title,price\np1,Shoe,12\np2,Hat,5\np3,Bag,7\n", encoding="utf-8")
    t = run_import(store, "products", path, progress=False).to_dict()["totals"]
    assert (t["products_added"], t["products_updated"]) == (1, 1)
    assert store.get_product("p1").price == 12.0 and store.count("products") == 3


def test_exit_status_failed_and_usage(tmp_path, home):
    bad = tmp_path / "views.csv"
    bad.write_text("a;b;c\n1;2;3\n", encoding="utf-8")
    proc = run_cli("import", "diginetica", str(bad), home=home)
    assert proc.returncode == 1 and "header must be" in proc.stderr and "Traceback" not in proc.stderr
    assert run_cli("import", "no-such-format", str(bad), home=home).returncode == 2
    assert run_cli("import", "events", str(tmp_path / "missing.csv"), home=home).returncode == 2
    garbage = tmp_path / "x.parquet"
    garbage.write_bytes(b"not parquet at all")
    proc = run_cli("import", "products", str(garbage), home=home)
    assert proc.returncode == 1 and "Parquet" in proc.stderr


@pytest.mark.parametrize("text", ["", "\n\n", "user_id,query,browsed_products,purchased_products\n"])
def test_empty_files_are_clean(text, tmp_path, store):
    path = tmp_path / "seed.csv"
    path.write_text(text, encoding="utf-8")
    report = run_import(store, "seed-csv", path, progress=False)
    assert report.status == "clean" and report.total("events_added") == 0
