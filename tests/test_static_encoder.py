"""e5-static: the static student distilled from a teacher on a store's words (daogou/encode/static.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from daogou.encode import get_encoder
from daogou.encode.static import StaticConfig, StaticEncoder, distill, words
from daogou.errors import ConfigError
from tests.conftest import cli_json, run_cli


class Counting:
    """A teacher that counts the texts it is asked to embed (hashing underneath: instant, deterministic)."""

    def __init__(self):
        self.inner = get_encoder("hashing", reuse=False)
        self.name, self.dim, self.languages = "hashing", self.inner.dim, ("zh", "en")
        self.asked: list[str] = []

    @property
    def cache_key(self):
        return self.inner.cache_key

    def encode(self, texts, kind="passage", batch_size=64, progress=False):
        self.asked += list(texts)
        return self.inner.encode(texts, kind)


CATALOG = ["Kairo wireless headphones, noise cancelling, black", "Strydo running shoes in red, size 42",
           "蓝牙耳机 降噪 黑色", "红色跑鞋 42码", "cotton bed sheets, queen size", "纯棉床单 四件套",
           "stainless kitchen knife set", "不锈钢厨房刀具套装"]


def test_words_split_codes_and_weigh_chinese_characters():
    got = words("Kairo XR2000 headphones SKU 1234567890 — 蓝牙耳机", char_weight=0.5)
    assert ("kairo", 1.0) in got and ("xr", 1.0) in got and ("2000", 1.0) in got
    assert not any(w == "1234567890" for w, _ in got)  # a long code is no word
    zh = [(w, s) for w, s in got if not w.isascii()]
    assert zh[0][1] == 1.0 and any(w == "耳" and s == 0.5 for w, s in zh)  # the word, then its characters
    assert words("ＡＢＣ Shoes") == [("abc", 1.0), ("shoes", 1.0)]  # NFKC, lower case
    assert words("x" * 100) == [("x" * 30, 1.0)]


def test_fit_learns_each_word_once_and_removes_the_shared_directions():
    teacher = Counting()
    student = StaticEncoder(teacher, config=StaticConfig(components=2)).fit(CATALOG)
    learned = set(teacher.asked)
    assert len(teacher.asked) == len(learned)  # each word once
    assert {"headphones", "蓝牙", "耳"} <= learned
    assert student.components.shape == (2, teacher.dim)
    own = {w for t in CATALOG for w, _ in words(t)}
    rows = student._rows()[[student.table.index[w] for w in own]]
    assert np.allclose(rows.mean(axis=0), 0, atol=1e-5)  # centred on the store's words
    assert np.allclose(rows @ student.components.T, 0, atol=1e-4)  # and nothing left along the shared directions
    before = len(teacher.asked)
    vecs = student.encode(CATALOG)
    assert len(teacher.asked) == before  # encoding the store's texts asks the teacher nothing
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert not student.encode(["!!! ---"]).any()  # no word at all: a zero vector, it matches nothing


def test_a_word_cut_off_while_typing_stands_for_its_completions_without_a_teacher_call():
    teacher = Counting()
    student = StaticEncoder(teacher, config=StaticConfig(components=0)).fit(CATALOG + ["headphone stand"])
    asked = len(teacher.asked)
    assert set(student.complete("headph")) == {"headphones", "headphone"}
    assert student.complete("headphones") == () and student.complete("he") == ()  # known; too short
    assert student.complete("cart") == ()  # a common word is known: the teacher said what it means
    assert student.complete("zzqx") == ()  # nothing in the store begins so
    assert {"under", "the", "便宜", "便"} <= set(student.table.index)  # common words a query brings, learned too
    cut = student.encode(["kairo wireless headph"], kind="query")[0]
    assert len(teacher.asked) == asked  # no teacher call for the fragment
    rows, at, w = student._rows(), student.table.index, student._weight
    parts = [("kairo", 1.0), ("wireless", 1.0), ("headphones", 0.5), ("headphone", 0.5)]
    expected = sum(share * w(word) * rows[at[word]] for word, share in parts)
    assert np.allclose(cut, expected / np.linalg.norm(expected), atol=1e-5)  # its completions share its weight
    student.encode(["shiny stainle"], kind="passage")  # a product's words are its own: learned, not completed
    assert "stainle" in student.table.index and student.complete("stainl") != ()
    teacher.asked.clear()
    typo = student.encode(["kairo headphnes"], kind="query")[0]  # one letter off a known word: stands for it
    assert student.near("headphnes") == ("headphones",) and student.near("kitchn") == ("kitchen",)
    assert np.allclose(typo, student.encode(["kairo headphones"], kind="query")[0], atol=1e-6)
    assert student.near("cove") == ()  # a word in its own right is no typo
    far = student.encode(["kairo zqxwvy 7391 鼹鼷"], kind="query")[0]  # near nothing: left out, BM25 reads it
    assert np.allclose(far, student.encode(["kairo"], kind="query")[0], atol=1e-6)
    assert teacher.asked == []  # a query never waits for the teacher


def test_common_words_are_asked_of_the_teacher_once_per_machine(tmp_path, monkeypatch):
    monkeypatch.setenv("DAOGOU_CACHE_DIR", str(tmp_path / "cache"))
    first, second = Counting(), Counting()
    config = StaticConfig(general_words=200)
    StaticEncoder(first, config=config).fit(CATALOG)
    assert "the" in first.asked and "cheap" not in first.asked  # "cheap" is past the 200 most common
    b = StaticEncoder(second, config=config).fit(CATALOG[:2])
    assert "the" in b.table.index and "the" not in second.asked  # another store: from this machine's cache
    assert not set(second.asked) - {w for t in CATALOG[:2] for w, _ in words(t)}  # only its own words asked
    assert np.allclose(b.table.matrix[b.table.index["the"]], first.inner.encode(["the"])[0], atol=1e-6)  # same
    monkeypatch.setenv("DAOGOU_CACHE_DIR", "")
    third = Counting()
    StaticEncoder(third, config=config).fit(CATALOG[:2])
    assert "the" in third.asked  # no cache: the teacher is asked


def test_saved_folder_round_trips_and_keeps_what_it_learns(tmp_path):
    report = distill(CATALOG, tmp_path / "student", teacher_name="hashing")
    assert report["texts"] == len(CATALOG) and report["words"] > 20 and report["words_reused"] == 0
    manifest = json.loads((tmp_path / "student" / "daogou_encoder.json").read_text())
    assert manifest["kind"] == "static" and manifest["base"] == "hashing"
    a = get_encoder(str(tmp_path / "student"), reuse=False)
    b = get_encoder(str(tmp_path / "student"), reuse=False)
    assert a.cache_key == b.cache_key and a.cache_key.startswith("hashing-static@")
    assert np.allclose(a.encode(CATALOG), b.encode(CATALOG))
    shards = lambda: sorted((tmp_path / "student" / "words").glob("words-*.safetensors"))  # noqa: E731
    n = len(shards())
    a.encode(["a brand new zorbix"], kind="query")  # a query's new words are not learned (no teacher call)
    assert len(shards()) == n and "zorbix" not in a.instance.table.index
    a.encode(["titanium zorbix bottle"], kind="passage")  # a product's are, and written for every process
    assert len(shards()) == n + 1
    fresh = get_encoder(str(tmp_path / "student"), reuse=False)
    assert "zorbix" in fresh.instance.table.index and fresh.cache_key == a.cache_key
    again = distill(CATALOG + ["titanium bottle"], tmp_path / "student", teacher_name="hashing")
    assert again["words_reused"] >= report["words"]  # re-distilling embeds only what is new


def test_static_student_ranks_like_its_teacher_on_a_planted_catalog(tmp_path):
    """With the real teacher (e5-multilingual): English and Chinese queries find their product first."""
    distill(CATALOG, tmp_path / "e5-static", config=StaticConfig(general_words=300))
    student = get_encoder(str(tmp_path / "e5-static"), reuse=False)
    assert student.cache_key.startswith("e5-static@")
    p = student.encode(CATALOG)
    for query, best in [("wireless headphones", {0, 2}), ("降噪耳机", {0, 2}), ("red running shoes", {1, 3}),
                        ("跑鞋", {1, 3}), ("bed sheets", {4, 5}), ("床单", {4, 5}), ("knife set", {6, 7})]:
        q = student.encode([query], kind="query")[0]
        assert int(np.argmax(p @ q)) in best, query


def test_a_folder_from_another_version_or_a_static_teacher_is_refused(tmp_path):
    distill(CATALOG, tmp_path / "s", teacher_name="hashing")
    with pytest.raises(ConfigError, match="static student cannot be the teacher"):
        distill(CATALOG, tmp_path / "t", teacher_name=str(tmp_path / "s"))
    manifest = tmp_path / "s" / "daogou_encoder.json"
    manifest.write_text(manifest.read_text().replace('"version": 1', '"version": 99'))
    with pytest.raises(ConfigError, match="distil it again"):
        get_encoder(str(tmp_path / "s"), reuse=False)
    with pytest.raises(ConfigError, match="no words"):
        StaticEncoder(Counting()).fit(["--- !!!"])


def test_cli_distill_then_index_and_search(tmp_path):
    home = tmp_path / "home"
    run_cli("demo", "--store-only", home=home, check=True)
    out = cli_json("distill", "--teacher", "hashing", home=home)
    folder = out["encoder"]
    assert out["texts"] == 2000 and folder.endswith("encoders/hashing-static")
    assert out["words"] > 300 and out["passage_fit"] == {}  # no teacher texts unless asked
    fitted = cli_json("distill", "--teacher", "hashing", "--teacher-texts", "60", "--out", str(tmp_path / "fitted"),
                      home=home)
    assert fitted["passage_fit"]["fitted"] and fitted["passage_fit"]["texts"] == 60
    assert (tmp_path / "fitted" / "passage.safetensors").is_file()
    cli_json("index", "--encoder", folder, home=home)
    hits = cli_json("search", "red running shoes", "--encoder", folder, "--k", "3", home=home)["hits"]
    assert len(hits) == 3 and all("shoe" in h["category"].lower() for h in hits), hits


def test_cli_distill_on_an_empty_store_says_what_to_do(tmp_path):
    proc = run_cli("distill", home=tmp_path / "empty")
    assert proc.returncode != 0 and "no products" in proc.stderr and "daogou import products" in proc.stderr


class Contextual(Counting):
    """A teacher that reads words together: a text's vector also holds its word pairs (what a word mean lacks)."""

    def encode(self, texts, kind="passage", batch_size=64, progress=False):
        self.asked += list(texts)
        pairs = [" ".join(f"{a}_{b}" for a, b in zip(t.split(), t.split()[1:])) for t in texts]
        return self.inner.encode(list(texts), kind) + 2 * self.inner.encode(pairs, kind)


SHOP = [f"{c} {k} {m}" for c in ("red", "blue", "black", "white", "green") for k in ("running shoes", "rain jacket",
        "wool socks", "trail backpack", "sun hat") for m in ("for kids", "for women", "large size")]


def test_passage_side_fitted_to_the_teacher_on_a_sample_and_kept_by_the_folder(tmp_path):
    teacher = Contextual()
    plain = StaticEncoder(teacher, config=StaticConfig(components=2)).fit(SHOP)
    teacher.asked.clear()
    fitted = StaticEncoder(teacher, config=StaticConfig(components=2, teacher_texts=50)).fit(SHOP)
    sample = [t for t in teacher.asked if t in SHOP]
    assert len(sample) == 50 == len(set(sample))  # the teacher read 50 of the store's texts whole
    report = fitted.fit_report
    assert report["fitted"] and report["texts"] == 50 and report["map_l2"] in (1e-4, 1e-3, 1e-2)
    assert report["cosine"]["after"] > report["cosine"]["before"] + 0.05  # closer to the teacher on the sample
    assert max(v for k, v in report["held_out_cosine"].items() if k != "before") > report["held_out_cosine"]["before"]
    target = fitted._into_space(teacher.inner.encode(SHOP, "passage") + 2 * teacher.inner.encode(
        [" ".join(f"{a}_{b}" for a, b in zip(t.split(), t.split()[1:])) for t in SHOP], "passage"))
    closeness = lambda enc: float(np.mean(np.sum(enc.encode(SHOP) * target, axis=1)))  # noqa: E731
    assert closeness(fitted) > closeness(plain)
    queries = ["red running shoes", "wool socks for kids"]
    assert np.allclose(fitted.encode(queries, kind="query"), plain.encode(queries, kind="query"))  # queries as before
    assert fitted.cache_key != plain.cache_key
    fitted.save(tmp_path / "s", "hashing")
    loaded = get_encoder(str(tmp_path / "s"), reuse=False)
    assert np.allclose(loaded.encode(SHOP), fitted.encode(SHOP), atol=1e-5) and loaded.cache_key == fitted.cache_key
    few = StaticEncoder(Counting(), config=StaticConfig(teacher_texts=50)).fit(CATALOG)
    assert few.passage_map is None and not few.fit_report["fitted"]  # 8 texts: too few to hold any out


def test_teacher_passages_read_each_product_whole_and_queries_stay_static(tmp_path):
    teacher = Counting()
    plain = StaticEncoder(teacher, config=StaticConfig(components=2)).fit(CATALOG)
    whole = StaticEncoder(teacher, config=StaticConfig(components=2, teacher_passages=True)).fit(CATALOG)
    teacher.asked.clear()
    got = whole.encode(CATALOG)
    assert teacher.asked == CATALOG  # the teacher read every product text whole
    expected = whole._into_space(teacher.inner.encode(CATALOG, "passage"))
    assert np.allclose(got, expected, atol=1e-6) and np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    teacher.asked.clear()
    queries = ["red running shoes", "降噪耳机"]
    assert np.allclose(whole.encode(queries, kind="query"), plain.encode(queries, kind="query"))
    assert teacher.asked == []  # a query costs no model
    assert whole.cache_key != plain.cache_key  # vectors of one are never taken for the other's
    whole.save(tmp_path / "s", "hashing")
    loaded = get_encoder(str(tmp_path / "s"), reuse=False)
    assert loaded.config.teacher_passages and np.allclose(loaded.encode(CATALOG), got, atol=1e-5)
