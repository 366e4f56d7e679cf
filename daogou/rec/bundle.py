"""Self-describing saved models: a folder anyone can inspect without daogou, and load without pickle.

```
bundle/
  manifest.json        format + version, model name, daogou version, data fingerprint, metrics, training summary,
                       text encoder, sha256 of every file
  config.json          the model's own configuration
  items.json           item ids (row order) and content-token vocabulary
  items.npz            content token rows and text features (plain arrays; loaded with allow_pickle=False)
  weights.safetensors  learned arrays
```
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load_file, save_file

from daogou.errors import ConfigError
from daogou.files import recover_folder, replace_folder, staging
from daogou.rec.base import RECOMMENDERS, QueryVectors, Recommender
from daogou.rec.items import ItemSpace

FORMAT, FORMAT_VERSION = "daogou-rec-bundle", 1
FILES = ("config.json", "items.json", "items.npz", "weights.safetensors")


@dataclass
class Bundle:
    model: Recommender
    manifest: dict[str, Any]
    path: Path


def _daogou_version() -> str:
    try:
        return version("daogou")
    except PackageNotFoundError:
        return "0+unknown"


def save(model: Recommender, folder: Path, *, fingerprint: str = "", encoder: str | None = None,
         metrics: dict[str, Any] | None = None, training: dict[str, Any] | None = None,
         data: dict[str, Any] | None = None) -> Path:
    """Write ``model`` to ``folder`` atomically (a temporary sibling renamed into place)."""
    folder = Path(folder)
    tmp = staging(folder)
    config, arrays = model.state()
    (tmp / "config.json").write_text(json.dumps(config, indent=2, default=str), encoding="utf-8")
    items = model.items
    (tmp / "items.json").write_text(json.dumps({"ids": items.ids, "vocab": items.vocab}, ensure_ascii=False),
                                    encoding="utf-8")
    extra = {} if items.text is None else {"text": items.text}
    if items.image is not None:
        extra["image"] = items.image
    np.savez(tmp / "items.npz", tokens=items.tokens, **extra)
    save_file({k: np.ascontiguousarray(v) for k, v in arrays.items()}, str(tmp / "weights.safetensors"))
    manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "model": model.name,
                "daogou_version": _daogou_version(), "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "data_fingerprint": fingerprint, "encoder": encoder, "n_items": items.n,
                "metrics": metrics or {}, "training": training or {}, "data": data or {},
                "files": {name: _sha256(tmp / name) for name in FILES}}
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
    return replace_folder(tmp, folder)


def read_manifest(folder: Path) -> dict[str, Any]:
    recover_folder(Path(folder))  # a save killed between its two renames left the old bundle aside
    path = Path(folder) / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{folder}: not a model bundle (no manifest.json); train one with `daogou train`") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}:{exc.lineno}: unreadable manifest: {exc.msg}") from None
    if manifest.get("format") != FORMAT:
        raise ConfigError(f"{path}: format {manifest.get('format')!r} is not {FORMAT!r}")
    if int(manifest.get("format_version", 0)) > FORMAT_VERSION:
        raise ConfigError(f"{path}: bundle format {manifest['format_version']} is newer than this daogou reads "
                          f"({FORMAT_VERSION}); upgrade daogou")
    return manifest


def load(folder: Path, query_vectors: QueryVectors | None = None, verify: bool = True) -> Bundle:
    folder = Path(folder)
    manifest = read_manifest(folder)
    if verify:
        for name, digest in manifest.get("files", {}).items():
            if not (folder / name).exists() or _sha256(folder / name) != digest:
                raise ConfigError(f"{folder / name}: missing or changed since the bundle was saved (checksum)")
    meta = json.loads((folder / "items.json").read_text(encoding="utf-8"))
    with np.load(folder / "items.npz", allow_pickle=False) as npz:
        items = ItemSpace(list(meta["ids"]), list(meta["vocab"]), npz["tokens"],
                          npz["text"] if "text" in npz.files else None,
                          npz["image"] if "image" in npz.files else None)
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    arrays = load_file(str(folder / "weights.safetensors"))
    model = RECOMMENDERS.get(manifest["model"]).from_state(config, arrays, items, query_vectors=query_vectors)
    return Bundle(model, manifest, folder)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
