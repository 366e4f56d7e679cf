"""Every recommender trains on a small demo store and is checked against its planted patterns, round-trips
through a bundle, serves new products and live session events."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from daogou.catalog.demo_store import load_demo_truth
from daogou.catalog.filters import Filters
from daogou.catalog.store import Store
from daogou.config import StoreConfig
from daogou.errors import ConfigError
from daogou.evaluate.protocols import evaluate
from daogou.rec import bundle as bundles
from daogou.rec.base import RECOMMENDERS
from daogou.rec.data import DataConfig, prepare
from daogou.rec.realtime import LiveRecommender
from daogou.rec.workflow import train_config_for
from tests.conftest import make_demo_home

MODELS = {
    "popularity": {},
    "item-knn": {},
    "daogou-rec": {"epochs": 6},
    "seed-bert": {"epochs": 1, "lr": 3e-4, "budget_s": 40},  # the reference lr (1e-5) needs more steps
}


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory) -> Path:
    return make_demo_home(tmp_path_factory, "rec")


@pytest.fixture(scope="module")
def trained(demo_home):
    """name → (model, results, bundle folder); trained once for the module."""
    out = {}
    with Store.open(StoreConfig(home=demo_home)) as store:
        prep = prepare(store, DataConfig(encoder="hashing"))
        for name, overrides in MODELS.items():
            model = RECOMMENDERS.get(name)(prep.data.items)
            result = model.fit(prep.data, train_config_for(name, progress=False, **overrides), log=lambda m: None)
            folder = bundles.save(model, demo_home / "models" / name, fingerprint=prep.data.fingerprint,
                                  encoder="hashing", training=result.to_dict(),
                                  data={"config": {"encoder": "hashing"}})
            out[name] = (model, evaluate(model, prep.test, prep.data.item_counts()), folder)
    return out, prep


def test_every_model_beats_popularity_on_the_demo(trained):
    models, _ = trained
    pop = models["popularity"][1]["full"]["ndcg@10"]
    for name in ("item-knn", "daogou-rec", "seed-bert"):
        assert models[name][1]["full"]["ndcg@10"] > pop, (name, models[name][1]["full"], pop)
    assert models["daogou-rec"][1]["full"]["ndcg@10"] > models["item-knn"][1]["full"]["ndcg@10"]


@pytest.mark.parametrize("name", list(MODELS))
def test_bundle_round_trip_gives_identical_scores(trained, name):
    models, prep = trained
    model, _, folder = models[name]
    loaded = bundles.load(folder, prep.data.query_vectors)
    cases = prep.test.take(slice(0, 50))
    np.testing.assert_array_equal(model.score(cases), loaded.model.score(cases))
    assert loaded.manifest["model"] == name and loaded.manifest["format_version"] == 1


def test_tampered_bundle_is_refused(trained, tmp_path):
    import shutil
    models, _ = trained
    copy = shutil.copytree(models["item-knn"][2], tmp_path / "knn")
    with open(copy / "weights.safetensors", "r+b") as f:
        f.seek(-1, 2)
        last = f.read(1)[0]
        f.seek(-1, 2)
        f.write(bytes([last ^ 0xFF]))
    with pytest.raises(ConfigError, match="checksum"):
        bundles.load(copy)


def _add_twin(store: Store, source_id: str, new_id: str) -> None:
    from dataclasses import replace
    src = store.get_product(source_id)
    with store.transaction() as conn:
        store.write_products(conn, [replace(src, id=new_id)])


def test_a_new_product_is_recommendable_with_content_only(demo_home, trained):
    models, prep = trained
    with Store.open(StoreConfig(home=demo_home)) as store:
        live = LiveRecommender(store, str(models["daogou-rec"][2]))
        shopper = prep.test.shoppers[0]
        ids, _ = live.recommend(shopper, n=5, exclude_purchased=False)
        _add_twin(store, ids[0], "NEW-TWIN")
        assert live.refresh_catalog() == 1
        ids2, scores2 = live.recommend(shopper, n=400, exclude_purchased=False)
        assert "NEW-TWIN" in ids2 and np.isfinite(scores2[ids2.index("NEW-TWIN")])
        assert ids2.index("NEW-TWIN") < 50  # content alone places it near its twin
        seed = LiveRecommender(store, str(models["seed-bert"][2]))  # the reference cannot score it at all
        assert "NEW-TWIN" not in seed.recommend(shopper, n=1000)[0]


def test_session_events_change_the_next_answer_without_retraining(demo_home, trained):
    models, _ = trained
    with Store.open(StoreConfig(home=demo_home)) as store:
        live = LiveRecommender(store, str(models["daogou-rec"][2]))
        products = list(store.iter_products())
        before, _ = live.recommend("U0005", n=10)
        wanted = [p for p in products if p.category == products[7].category][:4]
        for p in wanted:
            live.observe("U0005", p.id, "view")
        after, _ = live.recommend("U0005", n=10)
        assert after != before
        cat = {p.id: p.category for p in products}
        assert sum(cat[i] == wanted[0].category for i in after) > sum(cat[i] == wanted[0].category for i in before)


def test_recommendations_follow_the_planted_brand_taste(demo_home, trained):
    """Within a shopper's preferred category, daogou-rec ranks their favourite brand higher than popularity."""
    models, _ = trained
    truth = load_demo_truth(demo_home)
    with Store.open(StoreConfig(home=demo_home)) as store:
        brand = {p.id: p.brand for p in store.iter_products()}
        hits = {"daogou-rec": 0, "popularity": 0}
        for name in hits:
            live = LiveRecommender(store, str(models[name][2]))
            for st in list(truth.shoppers.values())[:60]:
                for category, fav in st.brands.items():
                    ids, _ = live.recommend(st.shopper_id, n=5, filters=Filters.parse([f"category={category}"]))
                    hits[name] += sum(brand[i] == fav for i in ids)
    assert hits["daogou-rec"] > 1.5 * hits["popularity"], hits


def test_a_new_shopper_is_served_from_the_query_alone(demo_home, trained):
    """No history at all: the query decides. Over every category, most of the top 10 are in the asked one."""
    models, _ = trained
    with Store.open(StoreConfig(home=demo_home)) as store:
        live = LiveRecommender(store, str(models["daogou-rec"][2]))
        products = {p.id: p for p in store.iter_products()}
        categories = sorted({p.category for p in products.values()})
        unasked, _ = live.recommend(None, n=10)
        with_query = without = 0
        for category in categories:
            ids, scores = live.recommend(None, query=category[-1].lower(), n=10)
            assert len(ids) == 10 and np.all(np.diff(scores) <= 0)
            with_query += sum(products[i].category == category for i in ids)
            without += sum(products[i].category == category for i in unasked)
        assert with_query >= 0.6 * 10 * len(categories), (with_query, without)
        assert with_query >= 5 * max(without, 1)


def test_serving_reads_only_the_newest_events_and_answers_the_same(demo_home, trained):
    """A serving request reads a shopper's newest events (and every purchase, for leaving them out), not the whole
    history: the answer is the one the whole history gives."""
    models, _ = trained
    with Store.open(StoreConfig(home=demo_home)) as store:
        live = LiveRecommender(store, str(models["daogou-rec"][2]), max_len=8)
        shoppers = sorted({r[0] for r in store.event_rows([f"U{i:04d}" for i in range(1, 40)])})
        long = [s for s in shoppers if len(store.event_rows([s])) > 12][:5]
        assert long, "the demo has shoppers with more events than the window"
        limited = [live.recommend(s, n=20) for s in long]
        read = store.event_rows
        store.event_rows = lambda shoppers, newest=None, always=(): read(shoppers)  # the whole history
        try:
            whole = [live.recommend(s, n=20) for s in long]
        finally:
            del store.event_rows
        for (ids_window, scores_window), (ids_whole, scores_whole) in zip(limited, whole):
            assert ids_window == ids_whole and np.allclose(scores_window, scores_whole, atol=1e-5)
