"""The behaviour re-ranker and the label-free encoder adaptation: known answers, no leaks from the future, clear
errors, saved folders that the rest of the system uses."""

from __future__ import annotations

import json

import numpy as np
import pytest

from daogou.catalog.models import Event, Product
from daogou.encode import get_encoder
from daogou.errors import ConfigError
from daogou.search.engine import SearchConfig, Searcher
from daogou.search.index_store import open_searcher
from daogou.search.rerank import RerankConfig, Reranker, folder_of, search_cases, train_store
from tests.conftest import cli_json, run_cli

T0 = 1_760_000_000_000


def _mugs(n: int = 12) -> list[Product]:
    colours = ["blue", "green", "grey", "white"]
    return [Product(f"M{i:02d}", title=f"{colours[i % 4]} ceramic coffee mug {i}", brand=f"B{i % 3}",
                    category=("Kitchen", "Mugs"), price=10.0 + i, language="en") for i in range(n)]


def _log(buy: str, searches: int = 60) -> list[Event]:
    """Shoppers search "coffee mug", look at three mugs and buy ``buy``, one session each."""
    events, t = [], T0
    for s in range(searches):
        sid, sess = f"S{s:03d}", f"S{s:03d}-1"
        events.append(Event(sid, sess, t, "search", query="coffee mug"))
        for j, pid in enumerate(("M00", "M01", buy)):
            events.append(Event(sid, sess, t + 1000 * (j + 1), "view", pid))
        events.append(Event(sid, sess, t + 9000, "purchase", buy))
        t += 3_600_000
    return events


def _store_with(store, products, events):
    with store.transaction() as conn:
        store.write_products(conn, products, overwrite=True)
        store.write_events(conn, events)
    return store


def test_reranker_learns_the_bought_product_first(store):
    _store_with(store, _mugs(), _log("M07"))
    plain = Searcher.build(store, SearchConfig(encoder="hashing", rerank=False))
    before = plain.search("coffee mug", k=12).ids()
    assert before[0] != "M07"  # the known answer is not already on top
    model, path = train_store(store, plain, RerankConfig(min_searches=20, min_in_leaf=5), log=lambda m: None)
    assert (path / "model.txt").is_file() and json.loads((path / "reranker.json").read_text())["kind"] == "daogou-reranker"
    # a fresh searcher finds the saved re-ranker and uses it; rerank=False still gives the hybrid order
    searcher = Searcher.build(store, SearchConfig(encoder="hashing"))
    assert searcher.reranker is not None
    assert searcher.search("coffee mug", k=5).ids()[0] == "M07"
    assert searcher.search("coffee mug", k=12, rerank=False).ids() == before
    # the saved index path loads it too
    loaded, info = open_searcher(store, SearchConfig(encoder="hashing"))
    assert loaded.search("coffee mug", k=3).ids()[0] == "M07" and info["reranker"] >= 1
    # a searcher with another encoder does not use a re-ranker trained on hashing's dense scores
    assert Reranker.load(path).encoder == plain.encoder.cache_key
    assert Searcher.build(store, SearchConfig(encoder="minilm")).reranker is None


def test_no_search_logs_gets_a_clear_message(store, home):
    events = [e for e in _log("M07") if e.type != "search"]
    _store_with(store, _mugs(), events)
    plain = Searcher.build(store, SearchConfig(encoder="hashing", rerank=False))
    with pytest.raises(ConfigError, match="search events"):
        train_store(store, plain, log=lambda m: None)
    proc = run_cli("train", "--model", "reranker", "--encoder", "hashing", home=home)
    assert proc.returncode != 0 and "search" in proc.stderr and "Traceback" not in proc.stderr
    assert not folder_of(home).exists()


def test_cases_see_only_the_past():
    products = {p.id: p for p in _mugs()}
    rows = [("A", "A-1", T0, 1, "view", "M01", "", None),
            ("B", "B-1", T0 + 1, 2, "purchase", "M02", "", None),
            ("A", "A-2", T0 + 10, 3, "search", None, "mug", None),
            ("A", "A-2", T0 + 11, 4, "view", "M03", "", json.dumps({"position": 4})),
            ("A", "A-2", T0 + 12, 5, "purchase", "M04", "", None),
            ("B", "B-2", T0 + 13, 6, "purchase", "M04", "", None),
            ("A", "A-2", T0 + 20, 7, "search", None, "cup", None),  # nothing after it: not a case
            ]
    cases, pop = search_cases(rows, products)
    assert len(cases) == 1
    c = cases[0]
    assert c.gains == {"M03": 1, "M04": 3}
    assert c.history.seen == {"M01"} and c.history.bought == set()  # A's own past only
    assert c.purchases == {"M02": 1} and c.views == {"M01": 1}  # popularity as it was at the search
    assert c.weights["M03"] == 4.0 and c.weights["M04"] == 1.0  # inverse propensity of a logged position
    assert pop.purchases["M04"] == 2  # the saved popularity counts the whole log


def test_adapted_encoder_folder_round_trips_into_index_and_search(store, home, tmp_path):
    from daogou.encode import product_text
    from daogou.search.adapt import AdaptConfig, adapt, pseudo_queries
    products = _mugs(40)
    _store_with(store, products, [])
    qs = pseudo_queries(products, 3)
    assert qs and all(q.strip() and q == q.lower() for q, _ in qs)
    base = Searcher.build(store, SearchConfig(encoder="minilm", understand=False, rerank=False))
    index = {p.id: i for i, p in enumerate(base.products)}
    passages = [product_text(p, base.encoder.languages, full=False) for p in base.products]
    out = tmp_path / "enc"
    report = adapt(base.products, passages,
                   lambda q, k: [(index[h.product_id], h.score) for h in base.search(q, k=k).hits],
                   base.encoder, out, AdaptConfig(batch_size=8, queries_per_product=2), progress=False,
                   log=lambda m: None)
    assert report["pseudo_queries"] > 40 and (out / "daogou_encoder.json").is_file()
    enc = get_encoder(str(out))
    a = enc.encode(["blue ceramic coffee mug"], "query")
    b = base.encoder.encode(["blue ceramic coffee mug"], "query")
    assert a.shape == b.shape and not np.allclose(a, b)  # trained, not a copy
    got = cli_json("search", "blue mug", "--encoder", str(out), "--mode", "dense", home=home)
    assert len(got["hits"]) == 10


def test_adapt_refuses_an_encoder_without_gradients(home):
    proc = run_cli("adapt", "--encoder", "hashing", home=home)
    assert proc.returncode != 0 and "cannot be fine-tuned" in proc.stderr and "Traceback" not in proc.stderr
