"""RecBole SASRec as an external reference model for the recommendation benchmark.

RecBole 1.2.1 needs ``numpy<2`` and an old ``ray``, so it lives in its own virtual environment
(default ``bench/.venv-recbole``, created on first use) and runs in a subprocess
(``bench/_recbole_runner.py``). This module only uses the standard library, numpy and psutil.

Protocol (identical to daogou's leave-one-out split, see ``daogou.catalog.splits.leave_one_out``):

* every user's item list is chronological; users with at least 3 items contribute
  validation target ``seq[-2]`` (input ``seq[:-2]``) and test target ``seq[-1]`` (input ``seq[:-1]``);
  their training part is ``seq[:-2]``; users with fewer than 3 items are wholly training;
* training samples are all prefixes of the training part: input ``train[:i]`` → target ``train[i]``
  for ``i >= 1``;
* every input is truncated to its last ``max_len`` items.

The split is written as RecBole *benchmark files* (``<name>.train.inter``, ``.valid.inter``,
``.test.inter``, columns ``user_id:token  item_id_list:token_seq  item_id:token``). With
``benchmark_filename`` set, RecBole's ``SequentialDataset`` skips its own filtering, ordering,
augmentation and splitting: each file becomes one dataset, one row per sample, so RecBole sees exactly
these rows (the runner reports its row counts and :func:`run_sasrec` checks them). RecBole's ``seq_len``
option is not used because it would keep the *first* items of a long sequence, not the last.

Evaluation is RecBole's full ranking over all items; for sequential models it does not mask the
user's history items (see the runner's docstring).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import psutil

BENCH_DIR = Path(__file__).resolve().parent
RUNNER = BENCH_DIR / "_recbole_runner.py"
DEFAULT_VENV = BENCH_DIR / ".venv-recbole"
DATASET_NAME = "seqbench"
BENCHMARK_PARTS = ("train", "valid", "test")

# A set that installs and imports together on CPython 3.11: pandas/scipy/scikit-learn releases that still
# support numpy 1.x, and setuptools < 81 because ray 2.6 imports pkg_resources (torch needs >= 77.0.3).
RECBOLE_PACKAGES = (
    "recbole==1.2.1",
    "numpy==1.26.4",
    "torch==2.13.0",
    "pandas==2.2.3",
    "scipy==1.13.1",
    "scikit-learn==1.5.2",
    "setuptools==80.9.0",
    "ray==2.6.3",
)
_MARKER = "daogou-bench-packages.txt"
_ANSI = re.compile(r"\x1B(?:[@-Z\\-_]|\[[0-?]*[ -/]*[@-~])")
_TAIL_LINES = 60

Samples = list[tuple[list[str], str]]  # (input items, target item) pairs
Log = Callable[[str], None]


@dataclass(frozen=True)
class SplitCounts:
    """Rows written to each benchmark file and distinct users/items in the split."""

    train: int
    valid: int
    test: int
    users: int
    items: int


def run_sasrec(sequences: dict[str, list[str]], work_dir: Path, budget_s: float | None, *, full: bool = False,
               max_len: int = 50, seed: int = 0, venv: Path | None = None, log: Log = print,
               resume: bool = False) -> dict:
    """Train RecBole SASRec on the leave-one-out split of ``sequences`` and return its test metrics.

    ``budget_s`` bounds training wall time (checked at epoch ends, so the last epoch may overrun it);
    ``full=True`` or ``budget_s=None`` trains until RecBole's own early stopping instead. Test metrics
    come from the checkpoint with the best validation NDCG@10. ``resume=True`` continues a stopped run in the same
    ``work_dir`` from its last finished epoch (see the runner's docstring).
    """
    t0 = time.perf_counter()
    work_dir = Path(work_dir).resolve()
    work_dir.mkdir(parents=True, exist_ok=True)
    python = ensure_venv(Path(venv) if venv is not None else DEFAULT_VENV, log=log)
    counts = write_benchmark_files(sequences, work_dir / "data" / DATASET_NAME, max_len)
    log(f"[recbole] split: {counts.train} train samples, {counts.valid} valid, {counts.test} test, "
        f"{counts.users} users, {counts.items} items")
    result_path = work_dir / "result.json"
    result_path.unlink(missing_ok=True)
    cmd = [str(python), str(RUNNER), "--data-path", str(work_dir / "data"), "--dataset", DATASET_NAME,
           "--out", str(result_path), "--max-len", str(max_len), "--seed", str(seed)]
    if budget_s is not None and not full:
        cmd += ["--budget-s", str(float(budget_s))]
    if resume:
        cmd.append("--resume")
    peak_rss_mb = _run_streaming(cmd, work_dir, log)
    raw = json.loads(result_path.read_text())
    _check_counts(raw["rows"], counts)
    return _result(raw, peak_rss_mb, time.perf_counter() - t0)


def split_samples(seq: list[str], max_len: int) -> tuple[Samples, Samples, Samples]:
    """One user's (input, target) samples for train, valid and test under the leave-one-out protocol."""
    train_part = seq[:-2] if len(seq) >= 3 else seq
    train = [(train_part[max(0, i - max_len):i], train_part[i]) for i in range(1, len(train_part))]
    if len(seq) < 3:
        return train, [], []
    valid = [(seq[:-2][-max_len:], seq[-2])]
    test = [(seq[:-1][-max_len:], seq[-1])]
    return train, valid, test


def write_benchmark_files(sequences: dict[str, list[str]], dataset_dir: Path, max_len: int) -> SplitCounts:
    """Write ``<name>.{train,valid,test}.inter`` atomic files; returns the row counts.

    Users and items are written as dense integer tokens (RecBole splits on tabs and spaces, which raw ids
    may contain); RecBole remaps tokens again internally, which does not change the data. ``items`` counts
    the items that occur in some written row (a one-item user contributes no row).
    """
    if max_len < 1:
        raise ValueError("max_len must be >= 1")
    dataset_dir.mkdir(parents=True, exist_ok=True)
    item_token: dict[str, str] = {}
    rows = dict.fromkeys(BENCHMARK_PARTS, 0)
    header = "user_id:token\titem_id_list:token_seq\titem_id:token\n"
    with ExitStack() as stack:
        files = {part: stack.enter_context(open(dataset_dir / f"{DATASET_NAME}.{part}.inter", "w", encoding="utf-8"))
                 for part in BENCHMARK_PARTS}
        for handle in files.values():
            handle.write(header)
        for user_index, seq in enumerate(sequences.values(), start=1):
            for part, samples in zip(BENCHMARK_PARTS, split_samples(list(seq), max_len)):
                for history, target in samples:
                    hist = " ".join(_token(item_token, item) for item in history)
                    files[part].write(f"{user_index}\t{hist}\t{_token(item_token, target)}\n")
                rows[part] += len(samples)
    return SplitCounts(rows["train"], rows["valid"], rows["test"], len(sequences), len(item_token))


def ensure_venv(venv: Path, log: Log = print) -> Path:
    """Create the RecBole virtual environment unless its marker already lists :data:`RECBOLE_PACKAGES`.

    Returns the environment's python. Installing takes a few minutes (torch, ray and scipy wheels).
    """
    python = venv / "bin" / "python"
    marker = venv / _MARKER
    wanted = "\n".join(RECBOLE_PACKAGES) + "\n"
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return python
    t0 = time.perf_counter()
    log(f"[recbole] creating {venv} with {' '.join(RECBOLE_PACKAGES)}")
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    install = subprocess.run([str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q",
                              *RECBOLE_PACKAGES], check=False, capture_output=True, text=True)
    if install.returncode != 0:
        raise RuntimeError(f"pip install into {venv} failed:\n{_tail_text(install.stdout + install.stderr)}")
    marker.write_text(wanted)
    log(f"[recbole] environment ready in {time.perf_counter() - t0:.0f} s")
    return python


def _token(mapping: dict[str, str], item: str) -> str:
    """Dense integer token (``"1"``, ``"2"``, …) of ``item``, assigned in order of first appearance."""
    token = mapping.get(item)
    if token is None:
        token = mapping[item] = str(len(mapping) + 1)
    return token


def _subprocess_env() -> dict[str, str]:
    """Environment for the runner: no leakage of this interpreter's paths, CPU only, and full checkpoint
    loading (RecBole's checkpoints hold its config object, which ``torch.load(weights_only=True)`` refuses)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.update(TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD="1", PYTHONUNBUFFERED="1", CUDA_VISIBLE_DEVICES="")
    return env


def _run_streaming(cmd: list[str], cwd: Path, log: Log) -> float:
    """Run ``cmd``, passing each output line to ``log``; returns the peak RSS (MiB) of its process tree.

    RecBole writes ``log/``, ``log_tensorboard/`` and ``saved/`` under the working directory, so it runs in
    ``cwd``. Raises RuntimeError with the output's tail when the command fails.
    """
    proc = subprocess.Popen(cmd, cwd=cwd, env=_subprocess_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, bufsize=1)
    peak = [0.0]
    done = threading.Event()
    poller = threading.Thread(target=_poll_rss, args=(proc.pid, peak, done), daemon=True)
    poller.start()
    tail: deque[str] = deque(maxlen=_TAIL_LINES)
    assert proc.stdout is not None
    for line in proc.stdout:
        line = _ANSI.sub("", line.rstrip("\n"))
        tail.append(line)
        log(line)
    code = proc.wait()
    done.set()
    poller.join()
    if code != 0:
        raise RuntimeError(f"RecBole runner exited with {code}:\n" + "\n".join(tail))
    return peak[0]


def _poll_rss(pid: int, peak: list[float], done: threading.Event, interval_s: float = 0.5) -> None:
    """Sample the summed RSS of ``pid`` and its descendants until ``done`` is set; keep the maximum."""
    try:
        root = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    while not done.is_set():
        total = 0
        try:
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return
        for proc in procs:
            try:
                total += proc.memory_info().rss
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
        peak[0] = max(peak[0], total / 2**20)
        done.wait(interval_s)


def _check_counts(rows: dict[str, int], counts: SplitCounts) -> None:
    """RecBole must see exactly the rows written (one per sample) and every item (+1 for padding)."""
    expected = {"train": counts.train, "valid": counts.valid, "test": counts.test, "items": counts.items + 1}
    got = {key: rows.get(key) for key in expected}
    if got != expected:
        raise RuntimeError(f"RecBole loaded {got}, expected {expected}")


def _result(raw: dict, peak_rss_mb: float, total_s: float) -> dict:
    """The benchmark record: test metrics from the best-validation checkpoint plus timing and memory."""
    test = raw["test"]
    out = {"model": "RecBole SASRec"}
    for k in (5, 10, 20):
        out[f"ndcg@{k}"] = test[f"ndcg@{k}"]
        out[f"hr@{k}"] = test[f"hit@{k}"]
    out["mrr@10"] = test["mrr@10"]
    out.update({
        "valid_ndcg@10": raw["best_valid_ndcg@10"],
        "valid_curve": raw["valid_curve"],
        "epochs": raw["epochs"],
        "train_s": raw["train_s"],
        "train_cpu_s": raw["train_cpu_s"],
        "total_s": total_s,
        "peak_rss_mb": max(peak_rss_mb, raw.get("runner_max_rss_mb", 0.0)),
        "config": raw["config"],
    })
    return out


def _tail_text(text: str) -> str:
    return "\n".join(text.splitlines()[-_TAIL_LINES:])
