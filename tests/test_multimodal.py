"""Pictures: the EfficientNet-Lite0 definition and its packaged weights, fusion, store-trained alignment, bad files,
search by look and by picture, and the recommender with image features."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch
from PIL import Image

from daogou.catalog.demo import DemoConfig
from daogou.catalog.demo_store import build_demo_store, load_demo_truth
from daogou.catalog.models import Product
from daogou.catalog.store import Store
from daogou.config import StoreConfig
from daogou.encode.align import (
    AlignConfig,
    load_head,
    project,
    recall_at_k,
    save_head,
    train_alignment,
)
from daogou.encode.fusion import FusionConfig, build_fusion, concat_vectors
from daogou.encode.image_cache import ImageFeatureCache
from daogou.encode.images import ImageLoadConfig, get_image_encoder, load_image
from daogou.errors import ConfigError, ImageError, UnknownNameError
from daogou.search.engine import SearchConfig, Searcher
from tests.conftest import run_cli

FASHION = "fashion_product_images_subset_azusaw"
# Fashion photos and the ImageNet class each must show in its top 5.
KNOWN = {"1808": (898, "water bottle"), "9437": (414, "backpack"), "14856": (893, "wallet"),
         "27020": (608, "jean"), "26351": (409, "analog clock"), "11913": (774, "sandal"),
         "12994": (770, "running shoe"), "18852": (610, "jersey, T-shirt")}


# ---------------------------------------------------------------- the network and its weights

@pytest.fixture(scope="module")
def effnet():
    return get_image_encoder("efficientnet-lite0")


def test_weights_load_strictly_into_our_definition(effnet):
    from daogou.encode.images import weights_path
    state = torch.load(weights_path(), map_location="cpu", weights_only=True)
    assert set(state) == set(effnet.model.state_dict())  # every key matched, none left over (strict=True)
    assert sum(p.numel() for p in effnet.model.parameters()) == 4_652_008  # EfficientNet-Lite0


def test_known_photos_classified_in_top5(effnet, datasets):
    folder = datasets / FASHION
    if not folder.is_dir():
        pytest.skip(f"{folder} missing")
    with open(folder / "labels.csv", encoding="utf-8") as fh:
        rows = {r["id"]: r for r in csv.DictReader(fh)}
    images = [load_image(folder / rows[i]["image_file"]) for i in KNOWN]
    top5 = np.argsort(-effnet.logits(images), axis=1)[:, :5]
    missed = [(i, KNOWN[i][1], top.tolist()) for i, top in zip(KNOWN, top5) if KNOWN[i][0] not in top]
    assert not missed, missed
    feats = effnet.encode(images)
    assert feats.shape == (len(KNOWN), 1280) and np.allclose(np.linalg.norm(feats, axis=1), 1, atol=1e-5)


def test_drawn_red_and_blue_pictures_differ_mostly_by_colour(effnet):
    def pic(rgb, shape):
        img = Image.new("RGB", (96, 96), (230, 230, 230))
        from PIL import ImageDraw
        d = ImageDraw.Draw(img)
        (d.ellipse if shape == "circle" else d.rectangle)((20, 20, 76, 76), fill=rgb)
        return img
    v = effnet.encode([pic((200, 20, 20), "circle"), pic((200, 20, 20), "square"), pic((20, 20, 200), "circle")])
    assert v[0] @ v[1] > 0.5 and v[0] @ v[2] > 0.5  # ordinary pictures, nothing degenerate
    assert not np.allclose(v[0], v[2])


# ---------------------------------------------------------------- fusion

@pytest.mark.parametrize("kind", ["concat", "gated"])
def test_fusion_shapes_and_gradients(kind):
    torch.manual_seed(0)
    fusion = build_fusion(FusionConfig(kind, text_dim=12, image_dim=20, out_dim=8))
    x_t, x_i = torch.randn(5, 12), torch.randn(5, 20)
    x_i[3] = 0  # product 3 has no picture
    out, extra = fusion(x_t, x_i)
    assert out.shape == (5, 8)
    out.pow(2).sum().backward()
    for name, p in fusion.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name
    if kind == "gated":
        assert extra.shape == (5, 8) and torch.all(extra[3] == 1)  # no picture → text only
        assert torch.all((extra[:3] > 0) & (extra[:3] < 1))
        with torch.no_grad():
            assert torch.allclose(out[3], fusion.text_proj(x_t[3]))


def test_fusion_config_errors_and_concat_vectors():
    with pytest.raises(UnknownNameError):
        FusionConfig("sum-of-everything", 4, 4, 4)
    with pytest.raises(ConfigError):
        FusionConfig("concat", 0, 4, 4)
    t, i = np.eye(3, 4, dtype=np.float32), np.ones((3, 4), np.float32) / 2
    v = concat_vectors(t, i, 0.5, has_image=np.array([True, False, True]))
    assert v.shape == (3, 8) and np.allclose(np.linalg.norm(v, axis=1), 1)
    assert np.all(v[1, 4:] == 0)


# ---------------------------------------------------------------- alignment

def _paired(n=300, seed=0):
    """Text and image vectors that share a hidden 16-d latent through different random maps, plus noise."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 16))
    text = z @ rng.normal(size=(16, 32)) + 0.5 * rng.normal(size=(n, 32))
    image = np.tanh(z @ rng.normal(size=(16, 48))) + 0.3 * rng.normal(size=(n, 48))
    return image.astype(np.float32), (text / np.linalg.norm(text, axis=1, keepdims=True)).astype(np.float32)


def test_alignment_beats_random_on_held_out_pairs(tmp_path):
    image, text = _paired()
    train, test = slice(0, 200), slice(200, 300)
    cfg = AlignConfig(image_dim=48, text_dim=32, hidden=64, epochs=40, batch_size=64)
    result = train_alignment(image[train], text[train], cfg)
    assert result.losses[-1] < result.losses[0]
    untrained = train_alignment(image[train], text[train], AlignConfig(48, 32, hidden=64, epochs=1, lr=1e-9))
    r_trained = recall_at_k(text[test], project(result.head, image[test]), 10)
    r_untrained = recall_at_k(text[test], project(untrained.head, image[test]), 10)
    assert r_trained > 0.5 > 3 * 0.1 and r_trained > r_untrained + 0.2, (r_trained, r_untrained)
    folder = save_head(result.head, tmp_path / "head", {"text": "t", "image": "i"}, {"r": r_trained})
    head, config = load_head(folder)
    assert config["encoders"] == {"text": "t", "image": "i"}
    assert np.allclose(project(head, image[test]), project(result.head, image[test]), atol=1e-6)
    (folder / "weights.safetensors").write_bytes(b"changed")
    with pytest.raises(ConfigError, match="checksum"):
        load_head(folder)


def test_alignment_refuses_bad_shapes():
    image, text = _paired(10)
    with pytest.raises(ConfigError):
        train_alignment(image, text[:5], AlignConfig(48, 32))
    with pytest.raises(ConfigError):
        train_alignment(image, text, AlignConfig(47, 32))


# ---------------------------------------------------------------- bad picture files

def test_bad_image_files_are_recorded_per_product(store):
    home = store.config.home
    (home / "images").mkdir()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(home / "images/ok.png")
    Image.new("RGBA", (20, 20), (0, 0, 255, 128)).save(home / "images/alpha.png")
    (home / "images/text.png").write_bytes(b"this is not a picture")
    (home / "images/empty.jpg").write_bytes(b"")
    good = (home / "images/ok.png").read_bytes()
    (home / "images/cut.png").write_bytes(good[:len(good) // 2])
    Image.new("L", (3000, 3000)).save(home / "images/bomb.png")  # a few KB on disk, 9 Mpx decoded
    (home / "images/big.bin").write_bytes(b"\0" * 30_000)
    refs = {"a": "images/ok.png", "b": "images/text.png", "c": "images/cut.png", "d": "images/nope.png",
            "e": "", "f": "images/bomb.png", "g": "https://example.com/x.jpg", "h": "images/empty.jpg",
            "i": str(home / "images/alpha.png"), "j": "images/big.bin", "k": "images"}
    products = [Product(id=pid, title=pid, image=ref) for pid, ref in refs.items()]
    cache = ImageFeatureCache(store, ImageLoadConfig(max_bytes=20_000, max_pixels=1_000_000))
    enc = get_image_encoder("colour-hist")
    found = cache.product_features(enc, products)
    assert found.has_image.tolist() == [pid in ("a", "i") for pid in refs]
    assert np.all(found.vectors[~found.has_image] == 0) and np.all(found.vectors[found.has_image].any(axis=1))
    states = cache.states()
    expected = {"a": "ok", "b": "not_image", "c": "corrupt", "d": "missing", "e": "none", "f": "too_large",
                "g": "none", "h": "not_image", "i": "ok", "j": "too_large", "k": "missing"}
    assert {pid: s for pid, (s, _) in states.items()} == expected
    assert set(found.errors) == set(refs) - {"a", "i", "e"}
    assert "images/nope.png: image file not found" in found.errors["d"]
    assert "decompression bomb" in found.errors["f"] and str(home) in found.errors["f"]
    assert found.encoded == 2
    again = cache.product_features(enc, products)
    assert again.encoded == 0 and np.array_equal(again.vectors, found.vectors)  # from the cache
    with pytest.raises(ImageError) as err:
        cache.encode_file(enc, home / "images/text.png")
    assert err.value.status == "not_image"


# ---------------------------------------------------------------- the demo store: search and recommendation

@pytest.fixture(scope="module")
def demo_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("mmdemo")
    with Store.open(StoreConfig(home)) as store:
        build_demo_store(store, DemoConfig(seed=1, n_products=600, n_shoppers=120))
    return home


def _hidden_colour_queries(searcher, truth, limit=12):
    """(query, hidden products of that colour and leaf): the colour shows only in their pictures."""
    groups: dict[tuple[str, str], set[str]] = {}
    for pid, colour in truth.hidden_colour.items():
        p = searcher.products[searcher.table.row_of[pid]]
        groups.setdefault((colour, p.category[-1]), set()).add(pid)
    best = sorted(groups.items(), key=lambda kv: -len(kv[1]))[:limit]
    return [(f"{colour} {leaf.lower()}", ids) for (colour, leaf), ids in best]


def test_pictures_find_products_whose_colour_is_only_in_the_image(demo_home):
    truth = load_demo_truth(demo_home)
    with Store.open(StoreConfig(demo_home)) as store:
        text_only = Searcher.build(store, SearchConfig(encoder="hashing"))
        with_pics = Searcher.build(store, SearchConfig(encoder="hashing", images="colour-hist"))
        assert with_pics.images.metrics["pairs"] > 400
        queries = _hidden_colour_queries(text_only, truth)
        found = {"text": 0, "pics": 0}
        for q, ids in queries:
            found["text"] += len(ids & set(text_only.search(q, k=20).ids()))
            found["pics"] += len(ids & set(with_pics.search(q, k=20).ids()))
        assert found["pics"] > found["text"] + 5, found
        pid = next(iter(truth.hidden_colour))
        hits = with_pics.search_image(store, demo_home / "images" / f"{pid}.png", k=5)
        assert hits.ids()[0] == pid and hits.mode == "image"


def test_recommender_trains_with_gated_image_fusion(demo_home, tmp_path):
    from daogou.rec import bundle
    from daogou.rec.data import DataConfig
    from daogou.rec.workflow import train, train_config_for
    with Store.open(StoreConfig(demo_home)) as store:
        path, _, prepared = train(store, "daogou-rec", DataConfig(encoder="hashing", images="colour-hist"),
                                       train_config_for("daogou-rec", epochs=1, progress=False), tmp_path / "m",
                                       {"fusion": "gated", "dim": 32}, log=lambda m: None)
        assert prepared.data.items.image.shape == (601, 80)
        loaded = bundle.load(path)
        assert loaded.model.model.fusion is not None and loaded.model.items.image.shape == (601, 80)
        with pytest.raises(ConfigError, match="needs text and image"):
            train(store, "daogou-rec", DataConfig(encoder="hashing"), train_config_for("daogou-rec", epochs=1),
                  tmp_path / "n", {"fusion": "concat"}, prepared=None, log=lambda m: None)


def test_cli_images_and_search_by_image(demo_home):
    proc = run_cli("images", "--images", "colour-hist", "--json", home=demo_home)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["with_picture"] == 600
    proc = run_cli("search", "--encoder", "hashing", "--image", str(demo_home / "images/missing.png"),
                   "--images", "colour-hist", home=demo_home)
    assert proc.returncode == 1 and "image file not found" in proc.stderr
    proc = run_cli("search", "--encoder", "hashing", home=demo_home)
    assert proc.returncode != 0 and "QUERY or --image" in proc.stderr
