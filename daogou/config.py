"""Typed settings. Environment variables are read here (and at the HTTP edge) and nowhere else."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOME = ".daogou"


@dataclass(frozen=True)
class StoreConfig:
    """Where the store lives. ``url`` overrides the SQLite file under ``home`` (e.g. a PostgreSQL URL)."""

    home: Path
    url: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "home", Path(self.home))

    @property
    def database_url(self) -> str:
        return self.url or f"sqlite:///{(self.home / 'daogou.db').resolve()}"

    @property
    def quarantine_path(self) -> Path:
        return self.home / "quarantine.jsonl"


def resolve_store_config(home: str | os.PathLike | None = None, url: str | None = None) -> StoreConfig:
    """``--home`` beats ``DAOGOU_HOME`` beats ``./.daogou``; ``--db`` beats ``DAOGOU_DB_URL``."""
    chosen = home or os.environ.get("DAOGOU_HOME") or DEFAULT_HOME
    return StoreConfig(home=Path(chosen), url=url or os.environ.get("DAOGOU_DB_URL") or None)
