"""What the server serves — store, search, recommender, writer, assistant — and the atomic swap behind reload.

A request takes ``holder.current`` once and uses that :class:`Services` to the end, so a reload (built off to
the side, then swapped in one assignment) never fails a request in flight.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from daogou.assist import AssistConfig, Assistant
from daogou.catalog.models import Event, Shopper
from daogou.catalog.store import Store
from daogou.errors import ConfigError, NotFoundError
from daogou.generate import LLMConfig, Writer, get_backend
from daogou.generate.grounding import Lexicon
from daogou.search.engine import SearchConfig, Searcher
from daogou.search.index_store import open_searcher
from daogou.serve.settings import ServeSettings


class EventLog:
    """Writes shopper events to the store at once (the recommender reads them on its next call)."""

    def __init__(self, store: Store, on_record=None):
        self.store, self.on_record = store, on_record
        self._lock = threading.Lock()

    def __call__(self, events: list[Event]) -> None:
        if not events:
            return
        with self._lock, self.store.transaction() as conn:
            self.store.write_shoppers(conn, [Shopper(e.shopper_id) for e in events])
            self.store.write_events(conn, events)
        for e in events:
            if self.on_record:
                self.on_record(e.type)


@dataclass
class Services:
    store: Store
    searcher: Searcher
    recommender: object | None
    writer: Writer
    assistant: Assistant
    bundle: str | None
    info: dict = field(default_factory=dict)


def default_bundle(settings: ServeSettings) -> Path | None:
    if settings.bundle is not None:
        if not Path(settings.bundle, "manifest.json").exists():
            raise NotFoundError("model bundle", str(settings.bundle))
        return Path(settings.bundle)
    candidate = Path(settings.home) / "models" / "daogou-rec"
    return candidate if (candidate / "manifest.json").exists() else None


def build_services(store: Store, settings: ServeSettings, bundle: Path | None, record: EventLog,
                   previous: "Services | None" = None, reopen_search: bool = True) -> Services:
    """Open the search index (built if stale), load the bundle, and wire the assistant. With ``previous``, its
    LLM backend, live conversations and (unless ``reopen_search``) search index carry over."""
    t0 = time.perf_counter()
    if store.count("products") == 0:
        raise ConfigError(f"the store in {store.config.home} has no products yet: import a catalog first "
                          "(daogou import products FILE) or build the demo (daogou demo)")
    if previous is not None and not reopen_search:
        searcher, search_info = previous.searcher, previous.info.get("search", {})
    else:
        searcher, search_info = open_searcher(store, SearchConfig(encoder=settings.encoder))
        searcher.warm()
    recommender = None
    if bundle is not None:
        from daogou.rec.realtime import LiveRecommender
        recommender = LiveRecommender(store, str(bundle))  # shares the searcher's encoder instance and its lock
    backend = previous.writer.backend if previous is not None else get_backend(llm_config(settings))
    writer = Writer(backend, Lexicon.from_products(searcher.products))
    config = AssistConfig(cards=settings.cards, conversations_per_shopper=settings.conversations_per_shopper)
    assistant = Assistant(store, searcher, recommender, writer, config, record)
    if previous is not None:
        assistant.conversations = previous.assistant.conversations
    info = {"search": search_info, "bundle": str(bundle) if bundle else None, "products": len(searcher.products),
            "llm": getattr(backend, "model_id", ""), "llm_backend": getattr(backend, "name", type(backend).__name__),
            "loaded_ms": int(time.time() * 1000), "seconds": round(time.perf_counter() - t0, 2)}
    return Services(store, searcher, recommender, writer, assistant, str(bundle) if bundle else None, info)


def llm_config(settings: ServeSettings) -> LLMConfig:
    return LLMConfig(backend=settings.llm_backend, model=settings.llm_model, base_url=settings.llm_base_url,
                     api_key=settings.llm_api_key)


class Holder:
    """The current services, swapped atomically by :meth:`reload` and :meth:`refresh_catalog`."""

    def __init__(self, store: Store, settings: ServeSettings, record: EventLog):
        self.store, self.settings, self.record = store, settings, record
        self.current = build_services(store, settings, default_bundle(settings), record)
        self._reload_lock = threading.Lock()

    def reload(self, bundle: str | None = None) -> Services:
        """Load a new model bundle beside the running one, then swap. A bad bundle leaves the old one serving."""
        with self._reload_lock:
            path = Path(bundle) if bundle else default_bundle(self.settings)
            if path is None:
                raise ConfigError("no model bundle to load: train one (daogou train) or pass its folder")
            if not (path / "manifest.json").exists():
                raise NotFoundError("model bundle", str(path))
            old = self.current
            self.current = build_services(self.store, self.settings, path, self.record, previous=old,
                                          reopen_search=False)
            return self.current

    def refresh_catalog(self) -> Services:
        """After an import: re-open the search index over the new catalog and add new products to the recommender."""
        with self._reload_lock:
            old = self.current
            fresh = build_services(self.store, self.settings, Path(old.bundle) if old.bundle else None, self.record,
                                   previous=old, reopen_search=True)
            self.current = fresh
            return fresh
