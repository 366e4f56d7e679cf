"""Product pictures → image vectors, cached in the store per (encoder, hash of the image bytes).

A product whose picture is absent, missing on disk, too large, corrupt or not an image gets a zero vector, a
recorded "no image" state with the reason (table ``product_images``) and an entry in ``errors``; nothing else is
lost. Re-encoding reads the files again (cheap) but runs the network only on pictures it has never seen.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import sqlalchemy as sa
import xxhash

from daogou.catalog.models import Product
from daogou.catalog.store import Store
from daogou.encode.images import (
    ImageEncoder,
    ImageLoadConfig,
    decode_image,
    read_image_bytes,
)
from daogou.errors import ImageError

_CHUNK = 500
_DECODE_BLOCK = 128


@dataclass
class ProductImages:
    """Vectors for ``ids`` in order; rows without a usable picture are zeros and ``has_image`` is False there."""

    ids: list[str]
    vectors: np.ndarray
    has_image: np.ndarray
    errors: dict[str, str] = field(default_factory=dict)   # product id → "path: reason" (absent pictures excluded)
    encoded: int = 0                                        # pictures run through the network now (cache misses)


def resolve_image(ref: str, home: Path) -> Path | None:
    """The local file of a product's ``image`` (relative to the home, or absolute); None when there is none."""
    ref = (ref or "").strip()
    if not ref:
        return None
    if ref.startswith(("http://", "https://")):
        raise ImageError(ref, "none", "remote image URLs are not fetched; download the pictures into the home")
    path = Path(ref)
    return path if path.is_absolute() else home / path


def image_hash(data: bytes) -> str:
    return xxhash.xxh3_128_hexdigest(data)


class ImageFeatureCache:
    def __init__(self, store: Store, load: ImageLoadConfig | None = None):
        self.store = store
        self.load = load or ImageLoadConfig()
        self.home = Path(store.config.home)

    def product_features(self, encoder: ImageEncoder, products: Sequence[Product], batch_size: int = 32,
                         progress: bool = False) -> ProductImages:
        n = len(products)
        out = ProductImages([p.id for p in products], np.zeros((n, encoder.dim), np.float32), np.zeros(n, bool))
        states: list[tuple] = []
        located = self._scan(products, out, states)
        first_path = {}
        for h, path in located.values():
            first_path.setdefault(h, path)
        found = self._lookup(encoder, sorted(first_path))
        missing = {h: path for h, path in first_path.items() if h not in found}
        bad = self._encode_missing(encoder, missing, found, out, batch_size, progress)
        for i, (h, path) in located.items():
            p = products[i]
            if h in found:
                out.vectors[i], out.has_image[i] = found[h], True
                states.append(self._state(p, h, "ok", ""))
            else:
                self._fail(out, states, p, ImageError(str(path), bad[h].status, bad[h].reason))
        self._record(states)
        return out

    def _scan(self, products: Sequence[Product], out: ProductImages, states: list[tuple]
              ) -> dict[int, tuple[str, Path]]:
        """Row → (hash of the file's bytes, path) for every picture that can be read; the rest are recorded."""
        located: dict[int, tuple[str, Path]] = {}
        for i, p in enumerate(products):
            try:
                path = resolve_image(p.image, self.home)
                if path is None:
                    states.append(self._state(p, None, "none", "no image"))
                    continue
                located[i] = (image_hash(read_image_bytes(path, self.load)), path)
            except ImageError as exc:
                self._fail(out, states, p, exc)
        return located

    def _encode_missing(self, encoder: ImageEncoder, missing: dict[str, Path], found: dict[str, np.ndarray],
                        out: ProductImages, batch_size: int, progress: bool) -> dict[str, ImageError]:
        """Decode and encode pictures not in the cache, one block at a time (bytes are read again, not held)."""
        bad: dict[str, ImageError] = {}
        todo = list(missing.items())
        for lo in range(0, len(todo), _DECODE_BLOCK):
            images, good = [], []
            for h, path in todo[lo:lo + _DECODE_BLOCK]:
                try:
                    images.append(decode_image(read_image_bytes(path, self.load), str(path), self.load))
                    good.append(h)
                except ImageError as exc:
                    bad[h] = exc
            if good:
                fresh = dict(zip(good, encoder.encode(images, batch_size=batch_size, progress=progress)))
                self._save(encoder, fresh)
                found.update(fresh)
                out.encoded += len(good)
        return bad

    def encode_file(self, encoder: ImageEncoder, path: Path) -> np.ndarray:
        """One picture (e.g. a shopper's photo) → its vector; :class:`ImageError` when it cannot be used."""
        raw = read_image_bytes(Path(path), self.load)
        h = image_hash(raw)
        found = self._lookup(encoder, [h])
        if h not in found:
            found[h] = encoder.encode([decode_image(raw, str(path), self.load)])[0]
        return found[h]

    def states(self) -> dict[str, tuple[str, str]]:
        """Product id → (status, error) of the last look at each picture."""
        t = self.store.t["product_images"]
        with self.store.engine.connect() as conn:
            return {pid: (s, e) for pid, s, e in conn.execute(sa.select(t.c.product_id, t.c.status, t.c.error))}

    # ------------------------------------------------------------------ internals
    @staticmethod
    def _state(p: Product, h: str | None, status: str, error: str) -> tuple:
        return (p.id, p.image or "", h, status, error, int(time.time() * 1000))

    def _fail(self, out: ProductImages, states: list[tuple], p: Product, exc: ImageError) -> None:
        states.append(self._state(p, None, exc.status, exc.reason))
        out.errors[p.id] = f"{exc.path}: {exc.reason}"

    def _lookup(self, encoder: ImageEncoder, keys: list[str]) -> dict[str, np.ndarray]:
        t, out = self.store.t["image_embeddings"], {}
        with self.store.engine.connect() as conn:
            for i in range(0, len(keys), _CHUNK):
                rows = conn.execute(sa.select(t.c.image_hash, t.c.vector).where(
                    t.c.encoder == encoder.cache_key, t.c.dim == encoder.dim, t.c.image_hash.in_(keys[i:i + _CHUNK])))
                out.update((h, np.frombuffer(v, dtype="<f4")) for h, v in rows)
        return out

    def _save(self, encoder: ImageEncoder, vectors: dict[str, np.ndarray]) -> None:
        rows = [(encoder.cache_key, h, int(v.shape[0]), np.asarray(v, dtype="<f4").tobytes())
                for h, v in vectors.items()]
        with self.store.transaction() as conn:
            self.store.insert_ignore(conn, "image_embeddings", ("encoder", "image_hash", "dim", "vector"), rows)

    def _record(self, states: list[tuple]) -> None:
        t = self.store.t["product_images"]
        with self.store.transaction() as conn:
            for i in range(0, len(states), _CHUNK):
                block = states[i:i + _CHUNK]
                conn.execute(sa.delete(t).where(t.c.product_id.in_([s[0] for s in block])))
                self.store.insert_ignore(conn, "product_images", ("product_id", "image", "image_hash", "status",
                                                                  "error", "checked_ms"), block)
