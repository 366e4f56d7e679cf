"""Shared fixtures: a fresh store per test, the real datasets, and a CLI runner."""

from __future__ import annotations

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
