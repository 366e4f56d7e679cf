"""A saved encoder folder: ``daogou_encoder.json`` (name, base, languages, kind, version) beside the model.

Fine-tuned or MLM-adapted encoders (kind ``sentence-transformers``, the default) and distilled static students
(kind ``static``, :mod:`daogou.encode.static`) are saved this way and plug in wherever an encoder name is
accepted: ``get_encoder("/path/to/folder")``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from daogou.encode.minilm import SentenceTransformerEncoder
from daogou.errors import ConfigError

MANIFEST = "daogou_encoder.json"


def read_folder_manifest(path: Path) -> dict:
    try:
        return json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path / MANIFEST}: unreadable encoder manifest: {exc}") from exc


def load_folder(path: Path):
    """The encoder a saved folder holds, by the kind its manifest names."""
    manifest = read_folder_manifest(path)
    kind = manifest.get("kind", "sentence-transformers")
    if kind == "static":
        from daogou.encode.static import StaticEncoder
        return StaticEncoder.load(path, manifest)
    if kind != "sentence-transformers":
        raise ConfigError(f"{path / MANIFEST}: unknown encoder kind {kind!r} (static, sentence-transformers)")
    return FolderEncoder(path, manifest)


class FolderEncoder(SentenceTransformerEncoder):
    def __init__(self, path: Path, manifest: dict | None = None):
        manifest = manifest if manifest is not None else read_folder_manifest(path)
        digest = hashlib.blake2b((path / MANIFEST).read_bytes(), digest_size=8).hexdigest()
        super().__init__(manifest.get("name", path.name), path, f"{manifest.get('base', 'custom')}-{digest}",
                         tuple(manifest.get("languages", ["en"])))


def write_manifest(path: Path, name: str, base: str, languages: tuple[str, ...], **extra) -> Path:
    """Make a sentence-transformers folder loadable as a daogou encoder."""
    data = {"name": name, "base": base, "languages": list(languages), "format_version": 1, **extra}
    (path / MANIFEST).write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path / MANIFEST
