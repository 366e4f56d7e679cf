"""The store: migrations, writes, reads, export round trip, and the same code on PostgreSQL when available."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from daogou.catalog.export import export_recbole
from daogou.catalog.importers import run_import
from daogou.catalog.migrations import applied_migrations, current_revision, revisions
from daogou.catalog.models import Event, Product, Shopper
from daogou.catalog.store import TABLES, Store
from daogou.config import StoreConfig, resolve_store_config
from daogou.errors import MigrationError


SHIPPED = ["0001_initial", "0002_embeddings", "0003_copy", "0004_images", "0005_conversations"]
LEGACY_STORE = Path(__file__).parent / "data" / "store-0005.db"  # written by the hand-written runner before Alembic


def test_revisions_applied_in_order_and_once(home):
    assert revisions()[:5] == SHIPPED
    with Store.open(StoreConfig(home)) as store:
        names = applied_migrations(store.engine)
        assert names == revisions() and current_revision(store.engine) == revisions()[-1]
    with Store.open(StoreConfig(home)) as store:  # reopening applies nothing new
        assert applied_migrations(store.engine) == names


def test_newer_database_is_refused(home):
    with Store.open(StoreConfig(home)) as store:
        with store.transaction() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999_future'"))
    with pytest.raises(MigrationError, match="9999_future"):
        Store.open(StoreConfig(home))


def _rows(store: Store) -> dict:
    return {t: store.count(t) for t in ("products", "shoppers", "events", "conversations", "meta")}


def test_a_store_from_before_alembic_is_upgraded_in_place(home):
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(LEGACY_STORE, home / "daogou.db")
    with Store.open(StoreConfig(home)) as store:
        assert applied_migrations(store.engine) == revisions()
        assert "schema_migrations" not in sa.inspect(store.engine).get_table_names()  # one ledger
        assert _rows(store) == {"products": 2, "shoppers": 1, "events": 2, "conversations": 1, "meta": 1}
        assert store.get_product("P2").title == "蓝色连衣裙" and store.load_conversation("c1")[0] == "U1"
        with store.transaction() as conn:  # and it is writable as a new store
            store.write_products(conn, [Product("P3", "Hiking boots", price=499.0)])
        assert store.count("products") == 3


def test_a_legacy_ledger_naming_a_future_migration_is_refused(home):
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(LEGACY_STORE, home / "daogou.db")
    engine = sa.create_engine(f"sqlite:///{home / 'daogou.db'}")
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO schema_migrations VALUES ('9999_future', 0)"))
    engine.dispose()
    with pytest.raises(MigrationError, match="9999_future"):
        Store.open(StoreConfig(home))


def test_home_resolution(monkeypatch, tmp_path):
    monkeypatch.setenv("DAOGOU_HOME", str(tmp_path / "env"))
    assert resolve_store_config().home == tmp_path / "env"
    assert resolve_store_config(tmp_path / "flag").home == tmp_path / "flag"
    monkeypatch.delenv("DAOGOU_HOME")
    assert str(resolve_store_config().home) == ".daogou"
    assert resolve_store_config(tmp_path).database_url.startswith("sqlite:///")


def test_write_read_round_trip(store):
    p = Product("p1", title="红色跑鞋", description="轻便", category=("鞋", "跑鞋"), brand="飞骋", price=399.0,
                currency="CNY", attributes={"color": "red", "size": ["41", "42"]}, image="images/p1.png",
                language="zh", in_stock=False, translations={"en": {"title": "Red running shoes"}})
    with store.transaction() as conn:
        assert store.write_products(conn, [p]) == (1, 0)
        assert store.write_products(conn, [p]) == (0, 0)  # unchanged: nothing written
        assert store.write_shoppers(conn, [Shopper("u1", {"language": "zh"})]) == 1
        assert store.write_events(conn, [Event("u1", "s1", 1, "view", "p1"), Event("u1", "s1", 2, "purchase", "p1")]) == 2
        assert store.write_events(conn, [Event("u1", "s1", 1, "view", "p1")]) == 0
    assert store.get_product("p1") == p
    assert store.get_product("nope") is None
    assert store.has_shopper("u1") and not store.has_shopper("nope")
    assert [x.id for x in store.iter_products(batch=1)] == ["p1"]
    assert store.events_frame()["type"].tolist() == ["view", "purchase"]
    assert [e.type for e in store.iter_events()] == ["view", "purchase"]
    assert store.event_counts(["purchase", "cart"]) == {("p1", "purchase"): 1}


def _expect_newest(store, shoppers: list[str], newest: int, always: tuple[str, ...]) -> None:
    """``event_rows(newest=, always=)`` is the full rows' last ``newest`` per shopper plus the ``always`` types."""
    everything = store.event_rows(shoppers)
    want = []
    for s in shoppers:
        mine = [r for r in everything if r[0] == s]
        want += [r for i, r in enumerate(mine) if i >= len(mine) - newest or r[4] in always]
    assert store.event_rows(shoppers, newest=newest, always=always) == want


def test_a_shoppers_newest_events_and_every_purchase(store):
    events = [Event("u1", "s1", t, kind, f"p{t % 4}") for t, kind in
              enumerate(["view", "purchase", "view", "cart", "view", "purchase", "view", "view"], start=1)]
    events += [Event("u2", "s9", 5, "view", "p1"), Event("u2", "s9", 5, "cart", "p2")]  # same time: source order
    with store.transaction() as conn:
        store.write_events(conn, events)
    newest = store.event_rows(["u1", "u2"], newest=3, always=("purchase",))
    assert [(r[0], r[2], r[4]) for r in newest] == [("u1", 2, "purchase"), ("u1", 6, "purchase"), ("u1", 7, "view"),
                                                     ("u1", 8, "view"), ("u2", 5, "view"), ("u2", 5, "cart")]
    assert [r[2] for r in store.event_rows(["u1"], newest=2)] == [7, 8]
    _expect_newest(store, ["u1", "u2"], 1, ())
    _expect_newest(store, ["u1", "u2"], 4, ("purchase", "cart"))


def test_export_recbole_round_trip(datasets, tmp_path):
    with Store.open(StoreConfig(tmp_path / "a")) as a:
        run_import(a, "recbole", datasets / "movielens_100k_recbole", progress=False)
        result = export_recbole(a, tmp_path / "out", "ml")
        frame_a = a.events_frame()
    assert result["counts"] == {"inter": 100_000, "item": 1_682, "user": 943}
    header = (tmp_path / "out" / "ml.inter").read_text().splitlines()[0]
    assert header == "user_id:token\titem_id:token\ttimestamp:float\ttype:token"
    with Store.open(StoreConfig(tmp_path / "b")) as b:
        report = run_import(b, "recbole", tmp_path / "out", progress=False).to_dict()
        assert report["status"] == "clean"
        frame_b = b.events_frame()
        assert b.get_product("1").title == "Toy Story"
        assert {s.id: s.attributes for s in b.get_shoppers()}["1"]["occupation"] == "technician"
    cols = ["shopper_id", "product_id", "ts_ms", "type"]
    assert frame_a[cols].sort_values(cols).values.tolist() == frame_b[cols].sort_values(cols).values.tolist()


def _postgres_url() -> str | None:
    url = os.environ.get("DAOGOU_TEST_PG_URL")
    if url:
        return url
    return None


def _clean_postgres(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for table in (*TABLES, "generated_texts", "schema_migrations", "alembic_version"):
            conn.execute(sa.text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
    engine.dispose()


@pytest.mark.skipif(not _postgres_url(), reason="no PostgreSQL server (set DAOGOU_TEST_PG_URL; .ci/run does)")
def test_a_postgresql_store_from_before_alembic_is_upgraded_in_place(tmp_path):
    """The hand-written runner's state on PostgreSQL (same tables, its ledger instead of Alembic's) is adopted."""
    url = _postgres_url()
    _clean_postgres(url)
    with Store.open(StoreConfig(tmp_path, url=url)) as store, store.transaction() as conn:
        store.write_products(conn, [Product("P1", "Red running shoes", price=299.0)])
        conn.execute(sa.text("DROP TABLE alembic_version"))
        conn.execute(sa.text("CREATE TABLE schema_migrations (name VARCHAR(128) PRIMARY KEY, applied_ms BIGINT NOT NULL)"))
        for name in SHIPPED[:4]:  # a store that had not yet reached 0005_conversations
            conn.execute(sa.text("INSERT INTO schema_migrations VALUES (:n, 0)"), {"n": name})
        conn.execute(sa.text("DROP TABLE conversations"))
    with Store.open(StoreConfig(tmp_path, url=url)) as store:
        assert applied_migrations(store.engine) == revisions()
        assert store.get_product("P1").title == "Red running shoes"
        store.save_conversation("c1", "alice", 1, {"turns": []})  # 0005 ran on the adopted store
        with store.transaction() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999_future'"))
    with pytest.raises(MigrationError, match="9999_future"):
        Store.open(StoreConfig(tmp_path, url=url))
    _clean_postgres(url)


@pytest.mark.skipif(not _postgres_url(), reason="no PostgreSQL server (set DAOGOU_TEST_PG_URL; .ci/run does)")
def test_same_store_code_on_postgresql(datasets, tmp_path):
    url = _postgres_url()
    engine = sa.create_engine(url)
    with engine.begin() as conn:  # a clean database for this test
        for table in (*TABLES, "generated_texts", "schema_migrations", "alembic_version"):
            conn.execute(sa.text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
    engine.dispose()
    with Store.open(StoreConfig(tmp_path, url=url)) as store:
        assert store.engine.dialect.name == "postgresql"
        report = run_import(store, "taobao", datasets / "taobao_userbehavior_head/UserBehavior_head84k.csv",
                            progress=False).to_dict()
        assert report["totals"]["events_added"] == 84_475 and report["totals"]["shoppers_added"] == 815
        again = run_import(store, "taobao", datasets / "taobao_userbehavior_head/UserBehavior_head84k.csv",
                           force=True, progress=False).to_dict()
        assert again["totals"]["events_added"] == 0
        assert store.count("products") == 55_368
        assert store.has_shopper(store.get_shoppers()[0].id) and not store.has_shopper("no-such-shopper")
        _expect_newest(store, [s.id for s in store.get_shoppers()[:20]], 50, ("purchase",))
        counts = store.event_counts(["purchase"])
        assert sum(counts.values()) == int((store.events_frame(types=["purchase"])["type"] == "purchase").sum()) > 0
        seed = tmp_path / "seed.csv"
        seed.write_text('1,"case",["c1","c2"],["c1"]\n,"bad",[],[]\n', encoding="utf-8")
        bad = run_import(store, "seed-csv", seed, progress=False)
        assert bad.status == "rejects" and bad.total("events_added") == 4
        store.save_conversation("c1", "alice", 1, {"turns": ["你好"]})
        store.save_conversation("c1", "alice", 2, {"turns": ["你好", "hi"]})  # the second save replaces the first
        assert store.load_conversation("c1") == ("alice", 2, {"turns": ["你好", "hi"]})
        assert store.prune_conversations(3) == 1 and store.load_conversation("c1") is None
