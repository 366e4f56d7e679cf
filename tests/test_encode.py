"""Contract tests run against every text encoder, plus the embedding cache and saved encoder folders."""

from __future__ import annotations

import numpy as np
import pytest

from daogou.catalog.store import Store
from daogou.config import StoreConfig
from daogou.encode import ENCODERS, EmbeddingCache, get_encoder
from daogou.errors import UnknownNameError

PAIRS = [  # (query, closer passage, farther passage)
    ("red running shoes", "running sneakers in red", "stainless kitchen knife set"),
    ("wireless headphones", "bluetooth earphones with noise cancelling", "cotton bed sheets"),
]
ZH_PAIRS = [("红色跑鞋", "red running shoes", "厨房刀具套装"), ("蓝牙耳机", "无线蓝牙耳机 降噪", "纯棉床单")]


@pytest.fixture(scope="module", params=[*ENCODERS.names(), "e5-static"])
def encoder(request, tmp_path_factory):
    if request.param == "e5-static":  # the static student, distilled on the demo catalog's texts
        from daogou.catalog.demo import DemoConfig, generate_demo
        from daogou.encode import product_text
        from daogou.encode.static import StaticConfig, distill
        products = generate_demo(DemoConfig(n_shoppers=0)).products
        folder = tmp_path_factory.mktemp("student") / "e5-static"
        distill([product_text(p, ("zh", "en"), full=False) for p in products], folder,
                config=StaticConfig(general_words=300))
        return get_encoder(str(folder))
    return get_encoder(request.param)


def test_shapes_types_and_norms(encoder):
    vecs = encoder.encode(["red shoes", "蓝牙耳机", "x" * 2000], kind="passage")
    assert vecs.shape == (3, encoder.dim) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)
    assert encoder.encode([], kind="query").shape == (0, encoder.dim)
    assert encoder.encode(["red shoes"], kind="query").shape == (1, encoder.dim)
    assert isinstance(encoder.cache_key, str) and encoder.name in encoder.cache_key


def test_deterministic_and_batch_independent(encoder):
    texts = [f"product number {i} in red" for i in range(70)]
    a = encoder.encode(texts, batch_size=64)
    b = encoder.encode(texts[:3], batch_size=2)
    assert np.allclose(a[:3], b, atol=1e-4)


def test_semantics(encoder):
    if encoder.name == "hashing":
        pytest.skip("the hashing encoder is lexical: no semantics to test")
    pairs = PAIRS + (ZH_PAIRS if "zh" in encoder.languages else [])
    for query, near, far in pairs:
        q = encoder.encode([query], kind="query")[0]
        p = encoder.encode([near, far], kind="passage")
        assert p[0] @ q > p[1] @ q, (encoder.name, query)


def test_unknown_encoder_is_a_named_error():
    with pytest.raises(UnknownNameError) as err:
        get_encoder("no-such-encoder")
    assert "minilm" in str(err.value) and "e5-multilingual" in str(err.value)


def test_cache_encodes_only_new_texts(tmp_path):
    class Counting:
        def __init__(self):
            self.inner, self.calls = get_encoder("hashing"), []
            self.name, self.dim, self.languages = "counting", self.inner.dim, self.inner.languages

        @property
        def cache_key(self):
            return "counting@1"

        def encode(self, texts, kind="passage", batch_size=64, progress=False):
            self.calls.append(list(texts))
            return self.inner.encode(texts, kind)

    enc = Counting()
    with Store.open(StoreConfig(tmp_path)) as store:
        cache = EmbeddingCache(store)
        first = cache.encode(enc, ["a red shoe", "a blue hat", "a red shoe"])
        assert enc.calls == [["a red shoe", "a blue hat"]]
        again = cache.encode(enc, ["a blue hat", "a green bag", "a red shoe"])
        assert enc.calls[-1] == ["a green bag"]
        assert np.allclose(again[0], first[1]) and np.allclose(again[2], first[0])
        cache.encode(enc, ["a red shoe"], kind="query")  # queries and passages are cached apart
        assert enc.calls[-1] == ["a red shoe"]


def test_saved_encoder_folder_plugs_in(tmp_path):
    from daogou.encode.folder import write_manifest
    base = get_encoder("minilm")
    folder = tmp_path / "my-encoder"
    base.model.save(str(folder))
    write_manifest(folder, name="minilm-store", base="all-MiniLM-L6-v2", languages=("en",))
    custom = get_encoder(str(folder), reuse=False)
    assert custom.name == "minilm-store" and custom.cache_key != base.cache_key
    texts = ["red running shoes"]
    assert np.allclose(custom.encode(texts), base.encode(texts), atol=1e-5)
