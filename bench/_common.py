"""What every benchmark records beside its numbers: the machine, its load, the commit measured."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


def commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                             timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return out.stdout.strip() + ("+changes" if dirty else "") if out.returncode == 0 else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def machine() -> dict:
    """Cores, memory, load average (other work on the cores changes every timing) and the commit."""
    mem = None
    try:
        mem = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        pass
    return {"machine": f"{platform.machine()} {os.cpu_count()} cores", "cores": os.cpu_count(), "memory_gib": mem,
            "python": platform.python_version(), "load_avg": [round(x, 2) for x in os.getloadavg()],
            "commit": commit(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def write_result(name: str, payload: dict, out: Path | None = None) -> Path:
    """``bench/results/<name>.json`` (or ``out``) with the machine facts under ``meta``."""
    path = out or RESULTS / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {**payload.pop("meta", {}), **machine()}
    path.write_text(json.dumps({"meta": meta, **payload}, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
