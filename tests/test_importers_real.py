"""Every importer on its real dataset: counts must match the dataset's SOURCE.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from daogou.catalog.importers import ImportOptions, run_import
from daogou.catalog.stats import store_stats
from tests.conftest import cli_json

UK_MAPPING = {"title": ["product_name"], "description": ["product_description"],
              "category": ["category", "subcategory_1", "subcategory_2", "subcategory_3", "subcategory_4"],
              "in_stock": ["number_available_in_stock"]}


def test_taobao_counts_via_cli(datasets, home):
    out = cli_json("import", "taobao", str(datasets / "taobao_userbehavior_head/UserBehavior_head84k.csv"), home=home)
    assert out["status"] == "clean"
    t = out["totals"]
    assert (t["events_added"], t["shoppers_added"], t["products_added"]) == (84_475, 815, 55_368)
    stats = cli_json("stats", home=home)
    assert stats["events_by_type"] == {"cart": 4_497, "fav": 2_356, "purchase": 1_750, "view": 75_872}
    again = cli_json("import", "taobao", str(datasets / "taobao_userbehavior_head/UserBehavior_head84k.csv"),
                     home=home)
    assert again["status"] == "skipped" and again["totals"]["events_added"] == 0


def test_amazon_seq_beauty_counts_via_cli(datasets, home):
    out = cli_json("import", "amazon-seq", str(datasets / "amazon_s3rec/Beauty.txt"), home=home)
    t = out["totals"]
    assert (t["shoppers_added"], t["products_added"], t["events_added"]) == (22_363, 12_101, 198_502)
    assert out["files"][0]["rejected"] == 0


def test_amazon_seq_attributes_and_order(datasets, store):
    run_import(store, "amazon-seq", datasets / "amazon_s3rec/Beauty.txt", progress=False)
    p = store.get_product("4")
    assert p.attributes["attribute_ids"] == [1, 2, 3]  # from Beauty_item2attributes.json
    frame = store.events_frame()
    first_user = frame[frame["shopper_id"] == "2"]["product_id"].tolist()
    assert first_user == ["6", "7", "8", "9", "10", "4", "11"]  # line "2 6 7 8 9 10 4 11", order kept


def test_amazon_seq_pairs_layout(datasets, tmp_path, store):
    lines = (datasets / "amazon_s3rec/Toys_and_Games.txt").read_text().splitlines()[:300]
    pairs = tmp_path / "toys_pairs.txt"
    pairs.write_text("".join(f"{ln.split()[0]} {item}\n" for ln in lines for item in ln.split()[1:]))
    report = run_import(store, "amazon-seq", pairs, progress=False).to_dict()
    n_events = sum(len(ln.split()) - 1 for ln in lines)
    assert report["totals"]["events_added"] == n_events
    assert report["totals"]["shoppers_added"] == 300
    seq = store.events_frame()
    user = lines[5].split()
    assert seq[seq["shopper_id"] == user[0]]["product_id"].tolist() == user[1:]


def test_recbole_movielens_counts(datasets, home):
    out = cli_json("import", "recbole", str(datasets / "movielens_100k_recbole"), home=home)
    t = out["totals"]
    assert (t["events_added"], t["shoppers_added"], t["products_added"]) == (100_000, 943, 1_682)
    assert [Path(f["file"]).suffix for f in out["files"]] == [".item", ".user", ".inter"]


def test_recbole_fields(datasets, store):
    run_import(store, "recbole", datasets / "movielens_100k_recbole", progress=False)
    toy = store.get_product("1")
    assert toy.title == "Toy Story"
    assert toy.attributes["class"] == ["Animation", "Children's", "Comedy"]
    assert toy.attributes["release_year"] == "1995"
    shopper = {s.id: s for s in store.get_shoppers()}["1"]
    assert shopper.attributes == {"age": "24", "gender": "M", "occupation": "technician", "zip_code": "85711"}
    frame = store.events_frame(with_extra=True)
    row = frame[(frame.shopper_id == "196") & (frame.product_id == "242")].iloc[0]
    assert row.ts_ms == 881_250_949_000 and '"rating":3.0' in row.extra


def test_diginetica_counts(datasets, store):
    report = run_import(store, "diginetica", datasets / "diginetica_sample_srgnn/sample_train-item-views.csv",
                        progress=False).to_dict()
    assert report["totals"]["events_added"] == 12_391
    stats = store_stats(store)
    assert stats["sessions"] == 2_986 and stats["active_products"] == 7_139
    assert stats["first_event"].startswith("2016-01-03") or stats["first_event"] >= "2016-01-01"
    assert stats["last_event"] < "2016-06-02"


def test_products_amazon_uk_with_mapping(datasets, home):
    csv_path = datasets / "amazon_uk_toys_subset/subset_productos_por_categoria_10_total_863_productos.csv"
    args = ["import", "products", str(csv_path), "--currency", "GBP", "--language", "en"]
    for field, cols in UK_MAPPING.items():
        args += ["--map", f"{field}={','.join(cols)}"]
    out = cli_json(*args, home=home)
    assert out["status"] == "clean" and out["totals"]["products_added"] == 863
    again = cli_json(*args, "--force", home=home)
    assert again["totals"]["products_added"] == 0 and again["totals"]["products_updated"] == 0


def test_products_amazon_uk_fields(datasets, store):
    csv_path = datasets / "amazon_uk_toys_subset/subset_productos_por_categoria_10_total_863_productos.csv"
    run_import(store, "products", csv_path, ImportOptions(mapping=UK_MAPPING, currency="GBP", language="en"),
               progress=False)
    p = store.get_product("03756123c54f2857ac841e94b9679189")
    assert p.title == "20pcs Scale 1/200 Model Single Head Street Lights Lamppost"
    assert p.brand == "Generic" and p.price == 4.99 and p.currency == "GBP"
    assert p.category == ("Hobbies", "Model Trains & Railway Sets", "Lighting & Signal Engineering",
                          "Lamps & Lighting")
    assert p.attributes["customer_reviews"].startswith("Five Stars")  # unmapped columns kept as attributes
    priced = [q for q in store.iter_products() if q.price is not None]
    assert len(priced) == 718  # SOURCE.md: price non-empty for 718


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_products_and_events_other_table_formats(fmt, tmp_path, store):
    import pandas as pd
    products = pd.DataFrame([
        {"id": "p1", "title": "Red running shoes", "brand": "Lumo", "price": "¥399", "category": "Shoes > Running",
         "color": "red"},
        {"id": "p2", "title": "蓝牙耳机", "brand": "声悦", "price": "299", "category": "电子 > 耳机", "color": "黑色"},
    ])
    events = pd.DataFrame([
        {"user_id": "u1", "ts": "2026-01-01T10:00:00Z", "event_type": "pv", "item_id": "p1"},
        {"user_id": "u1", "ts": "2026-01-01T10:01:00Z", "event_type": "buy", "item_id": "p1"},
        {"user_id": "u2", "ts": "2026-01-02T10:00:00Z", "event_type": "search", "item_id": None, "query": "耳机"},
    ])
    ppath, epath = tmp_path / f"p.{fmt}", tmp_path / f"e.{fmt}"
    if fmt == "jsonl":
        products.to_json(ppath, orient="records", lines=True, force_ascii=False)
        events.to_json(epath, orient="records", lines=True, force_ascii=False)
    else:
        products.to_parquet(ppath)
        events.to_parquet(epath)
    assert run_import(store, "products", ppath, progress=False).to_dict()["totals"]["products_added"] == 2
    assert run_import(store, "events", epath, progress=False).to_dict()["totals"]["events_added"] == 3
    p2 = store.get_product("p2")
    assert p2.category == ("电子", "耳机") and p2.attributes == {"color": "黑色"} and p2.price == 299.0
    assert store.get_product("p1").currency == "CNY"
    frame = store.events_frame()
    assert frame["type"].tolist() == ["view", "purchase", "search"]
