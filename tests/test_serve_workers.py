"""`daogou serve --workers N`: N processes on one port, with one rate limit, one /metrics, the conversations of the
store and admin changes reaching every worker — over loopback against a real two-worker server."""

from __future__ import annotations

import contextlib
import re
import shutil
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from daogou.errors import ConfigError, NotFoundError
from daogou.serve.ratelimit import SQLiteStorage, open_storage
from daogou.serve.security import RateLimited, RateLimiter, TokenSigner
from tests.conftest import free_port, run_cli, running_server

SECRET = "w" * 32
ADMIN_KEY = "workers-admin-key"
BURST = 6  # requests per shopper in the shared window (rate 0.01/s: 600 s, so none come back during the test)
HEADER = "x-daogou-worker"


@pytest.fixture(scope="module")
def workers_home(served_home, tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("workers") / "home"
    shutil.copytree(served_home, home)
    return home


@pytest.fixture(scope="module")
def server(workers_home):
    """`daogou serve --workers 2` with a low per-shopper limit; yields its base URL once both workers are ready."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = workers_home.parent / "server.log"
    env = {"DAOGOU_SECRET": SECRET, "DAOGOU_ADMIN_KEYS": ADMIN_KEY, "DAOGOU_RATE_PER_S": "0.01",
           "DAOGOU_RATE_BURST": str(BURST), "DAOGOU_CHAT_RATE_PER_S": "0", "DAOGOU_AUTH_RATE_PER_S": "0"}
    cmd = [sys.executable, "-m", "daogou.cli", "--home", str(workers_home), "serve", "--workers", "2",
           "--encoder", "hashing", "--llm", "template", "--port", str(port)]
    with running_server(cmd, base + "/healthz", log, "daogou serve --workers 2", env=env):
        deadline = time.monotonic() + 120
        while "all 2 workers ready" not in log.read_text():
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
        yield base


def bearer(shopper: str) -> dict:
    return {"Authorization": "Bearer " + TokenSigner(SECRET.encode(), 3600).issue(shopper)}


def pinned(base: str, other_than: str | None = None) -> tuple[httpx.Client, str]:
    """A keep-alive client whose one connection a worker (other than ``other_than``) accepted: all its requests go
    to that worker."""
    for _ in range(100):
        client = httpx.Client(base_url=base, timeout=30)
        pid = client.get("/healthz").headers[HEADER]
        if pid != other_than:
            return client, pid
        client.close()
    pytest.fail(f"100 new connections all went to worker {other_than}")


def two_workers(base: str) -> tuple[tuple[httpx.Client, str], tuple[httpx.Client, str]]:
    a = pinned(base)
    return a, pinned(base, other_than=a[1])


# ---------------------------------------------------------------- over loopback

def test_two_worker_processes_answer_on_one_port(server):
    (a, pid_a), (b, pid_b) = two_workers(server)
    with contextlib.closing(a), contextlib.closing(b):
        assert pid_a != pid_b
        assert a.get("/healthz").headers[HEADER] == pid_a  # a connection stays with its worker
        assert a.get("/healthz").json()["products"] == b.get("/healthz").json()["products"] == 480


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a socket per worker is Linux's (SO_REUSEPORT)")
def test_connections_opened_at_once_are_spread_over_the_workers(server):
    """20 keep-alive clients connecting together: each worker gets some (one shared socket gave all 20 to one)."""
    import asyncio

    async def burst() -> list[str]:
        port = int(server.rsplit(":", 1)[1])
        pairs = await asyncio.gather(*(asyncio.open_connection("127.0.0.1", port) for _ in range(20)))
        pids = []
        for reader, writer in pairs:
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            head = (await reader.readuntil(b"\r\n\r\n")).decode().lower()
            pids.append(head.split(HEADER + ":", 1)[1].split("\r\n", 1)[0].strip())
        for _, writer in pairs:
            writer.close()
        return pids

    pids = asyncio.run(burst())
    assert len(set(pids)) == 2 and min(pids.count(p) for p in set(pids)) >= 3, pids  # binomial: fails 1 in 2,500


def test_one_rate_limit_is_shared_by_the_workers(server):
    """With a budget of BURST requests, requests spread over both workers get BURST answers in all, not 2 × BURST."""
    for attempt in range(8):
        headers = bearer(f"limited-{attempt}")

        def one(_):
            return httpx.get(server + "/v1/search", params={"q": "socks"}, headers=headers, timeout=30)
        with ThreadPoolExecutor(6) as pool:  # a new connection each: the kernel hands them to either worker
            answers = list(pool.map(one, range(3 * BURST)))
        codes = [r.status_code for r in answers]
        assert codes.count(200) == BURST and codes.count(429) == 2 * BURST, codes
        refused = [r for r in answers if r.status_code == 429]
        assert all(1 <= int(r.headers["retry-after"]) <= 600 for r in refused)
        if len({r.headers[HEADER] for r in answers}) == 2:
            break
    else:
        pytest.fail("eight bursts were each answered by one worker only")


def test_metrics_count_the_requests_of_both_workers(server):
    (a, pid_a), (b, pid_b) = two_workers(server)

    def healthz_count() -> float:
        text = httpx.get(server + "/metrics").text
        m = re.search(r'^daogou_http_requests_total\{method="GET",route="/healthz",status="200"\} (\S+)$', text, re.M)
        return float(m.group(1)) if m else 0.0

    with contextlib.closing(a), contextlib.closing(b):
        before = healthz_count()
        for _ in range(5):
            a.get("/healthz")
        for _ in range(3):
            b.get("/healthz")
        assert healthz_count() - before == 8  # one worker answers /metrics, with the counts of both
        text = httpx.get(server + "/metrics").text
        memory = dict(re.findall(r'^daogou_worker_resident_memory_bytes\{pid="(\d+)"\} (\S+)$', text, re.M))
        assert {pid_a, pid_b} <= set(memory) and all(float(v) > 50 * 2**20 for v in memory.values())
        assert re.search(r"^daogou_products 480\.0$", text, re.M)
        assert "daogou_http_request_seconds_bucket" in text


def test_a_conversation_moves_between_workers(server):
    """Turn 1 on worker A, turn 2 on B, turn 3 on A again: each worker sees the turns the other answered."""
    (a, pid_a), (b, pid_b) = two_workers(server)
    h = bearer("U0003")
    with contextlib.closing(a), contextlib.closing(b):
        first = a.post("/v1/chat", json={"message": "headphones"}, headers=h).json()
        cid = first["conversation_id"]
        second = b.post("/v1/chat", json={"message": "the second one", "conversation_id": cid}, headers=h).json()
        assert [c["id"] for c in second["cards"]] == [first["cards"][1]["id"]]
        on_a = a.get(f"/v1/conversations/{cid}", headers=h).json()  # A has turn 1 in memory: the store's is newer
        assert [t["text"] for t in on_a["turns"] if t["role"] == "shopper"] == ["headphones", "the second one"]
        third = a.post("/v1/chat", json={"message": "start over", "conversation_id": cid}, headers=h)
        assert third.status_code == 200 and third.headers[HEADER] == pid_a
        on_b = b.get(f"/v1/conversations/{cid}", headers=h).json()
        assert len(on_b["turns"]) == 6 and on_b["turns"][-2]["text"] == "start over"


def test_an_admin_reload_reaches_every_worker(server):
    (a, pid_a), (b, pid_b) = two_workers(server)
    with contextlib.closing(a), contextlib.closing(b):
        loaded = b.get("/healthz").json()["loaded_ms"]
        r = a.post("/v1/admin/reload", json={}, headers={"X-API-Key": ADMIN_KEY})
        assert r.status_code == 200 and r.headers[HEADER] == pid_a
        deadline = time.monotonic() + 30
        while b.get("/healthz").json()["loaded_ms"] == loaded:
            assert time.monotonic() < deadline, "worker B did not follow the reload"
            time.sleep(0.2)


def test_workers_refuse_a_rate_limit_storage_they_cannot_share(workers_home):
    proc = run_cli("serve", "--workers", "2", "--encoder", "hashing", "--port", "0", "--rate-limit-storage",
                   "memory://", home=workers_home, env={"DAOGOU_RATE_PER_S": "1"}, timeout=120)
    assert proc.returncode == 1 and "lives inside one process" in proc.stderr and "Traceback" not in proc.stderr


def test_an_empty_store_is_a_clear_error_before_any_worker_starts(tmp_path):
    proc = run_cli("serve", "--workers", "2", "--encoder", "hashing", "--port", "0", home=tmp_path / "empty",
                   timeout=120)
    assert proc.returncode == 1 and "no products yet" in proc.stderr and "Traceback" not in proc.stderr


# ---------------------------------------------------------------- the pieces

def test_sqlite_storage_is_one_count_for_every_process_that_opens_it(tmp_path):
    uri = f"sqlite:///{tmp_path}/limits.sqlite"
    worker_a, worker_b = (RateLimiter(1, 20, open_storage(uri, processes=2), "t") for _ in range(2))
    taken: list[bool] = []

    def hammer(limiter: RateLimiter) -> None:
        for _ in range(15):
            try:
                limiter.take("shopper:x")
                taken.append(True)
            except RateLimited:
                taken.append(False)
    threads = [threading.Thread(target=hammer, args=(lim,)) for lim in (worker_a, worker_b, worker_a, worker_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert taken.count(True) == 20 and taken.count(False) == 40
    with pytest.raises(RateLimited) as exc:
        worker_b.take("shopper:x")
    assert 0 < exc.value.retry_after_s <= 20
    worker_a.take("shopper:y")  # another key has its own count
    assert isinstance(worker_a.storage, SQLiteStorage) and worker_a.storage.reset() >= 2


def test_rate_limit_storage_uris_are_checked():
    with pytest.raises(ConfigError, match="lives inside one process"):
        open_storage("memory://", processes=2)
    with pytest.raises(ConfigError, match="schemes:"):
        open_storage("nosuch://host:1")
    with pytest.raises(ConfigError, match="give the file"):
        open_storage("sqlite://")
    with pytest.raises(ConfigError, match=r"\*\*\*") as exc:
        open_storage("redis://user:hunter2@127.0.0.1:1")  # no server there (or no client package): never the password
    assert "hunter2" not in str(exc.value)


def test_a_worker_sees_what_another_did_to_a_conversation(store, monkeypatch):
    """Two processes' conversation caches over one store, on a clock that does not move: revisions, not times, say
    which copy is newer; one forgotten by the other process is gone here too."""
    from daogou.assist import state
    clock = [1_000_000]
    monkeypatch.setattr(state, "now_ms", lambda: clock[0])
    a, b = state.Conversations(store=store, per_shopper=2), state.Conversations(store=store, per_shopper=2)
    conv = a.start("alice")
    conv.add(state.Turn("shopper", "headphones"))
    a.save(conv)
    on_b = b.get(conv.id, "alice")
    on_b.add(state.Turn("shopper", "cheaper"))
    b.save(on_b)
    assert [t.text for t in a.get(conv.id, "alice").turns] == ["headphones", "cheaper"]
    for message in ("socks", "backpack"):
        clock[0] += 1000  # b starts two more: alice keeps two, the oldest is forgotten
        other = b.start("alice")
        other.add(state.Turn("shopper", message))
        b.save(other)
    with pytest.raises(NotFoundError):
        a.get(conv.id, "alice")
    fresh = a.start("alice")  # started here, not saved yet: still there
    assert a.get(fresh.id, "alice") is fresh
