"""Import speed and memory: the Taobao sample and a generated 1M-event log, into a fresh SQLite store.

    python bench/import.py [--events 1000000] [--out bench/results/import.json]

Each import runs as a user would run it (`daogou import … --json` in a subprocess); peak memory is the
sampled RSS of that process plus its parser process. Prints a table and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from daogou.catalog.synthetic import write_events_csv

ROOT = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("DAOGOU_DATASETS", ROOT.parent / "shared" / "datasets"))


def measure(fmt: str, path: Path, home: Path) -> dict:
    cmd = [sys.executable, "-m", "daogou.cli", "--home", str(home), "import", fmt, str(path), "--json"]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    watched = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            procs = [watched, *watched.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in procs))
        except psutil.Error:
            pass
        time.sleep(0.05)
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    if proc.returncode not in (0, 3):
        raise SystemExit(f"{cmd} failed ({proc.returncode}): {err}")
    report = json.loads(out)
    events = report["totals"]["events_added"]
    return {"dataset": path.name, "format": fmt, "events": events, "products": report["totals"]["products_added"],
            "wall_s": round(wall, 2), "events_per_s": round(events / wall), "peak_rss_mb": round(peak / 2**20, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=1_000_000, help="size of the generated log")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "import.json")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        taobao = DATASETS / "taobao_userbehavior_head" / "UserBehavior_head84k.csv"
        if taobao.exists():
            rows.append(measure("taobao", taobao, tmpdir / "h_taobao"))
        generated = write_events_csv(tmpdir / f"events_{args.events}.csv", args.events)
        rows.append(measure("events", generated, tmpdir / "h_generated"))
    print(f"{'dataset':<32} {'events':>10} {'wall s':>8} {'events/s':>10} {'peak RSS MB':>12}")
    for r in rows:
        print(f"{r['dataset']:<32} {r['events']:>10,} {r['wall_s']:>8} {r['events_per_s']:>10,} {r['peak_rss_mb']:>12}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"machine": f"{platform.machine()} {os.cpu_count()} cores", "python": platform.python_version(),
            "command": "python bench/import.py " + " ".join(sys.argv[1:])}
    args.out.write_text(json.dumps({"meta": meta, "results": rows}, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
