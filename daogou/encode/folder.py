"""A saved encoder folder: a sentence-transformers model plus ``daogou_encoder.json`` (name, languages, version).

Fine-tuned or MLM-adapted encoders are saved this way and plug in wherever an encoder name is accepted:
``get_encoder("/path/to/folder")``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from daogou.encode.minilm import SentenceTransformerEncoder
from daogou.errors import ConfigError

MANIFEST = "daogou_encoder.json"


class FolderEncoder(SentenceTransformerEncoder):
    def __init__(self, path: Path):
        try:
            manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"{path / MANIFEST}: unreadable encoder manifest: {exc}") from exc
        digest = hashlib.blake2b((path / MANIFEST).read_bytes(), digest_size=8).hexdigest()
        super().__init__(manifest.get("name", path.name), path, f"{manifest.get('base', 'custom')}-{digest}",
                         tuple(manifest.get("languages", ["en"])))


def write_manifest(path: Path, name: str, base: str, languages: tuple[str, ...], **extra) -> Path:
    """Make a sentence-transformers folder loadable as a daogou encoder."""
    data = {"name": name, "base": base, "languages": list(languages), "format_version": 1, **extra}
    (path / MANIFEST).write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path / MANIFEST
