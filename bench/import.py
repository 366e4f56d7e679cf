"""Import speed and memory: the Taobao sample and a generated 1M-event log, into a fresh SQLite store.

    python bench/import.py [--events 1000000] [--out bench/results/import.json]

Each import runs as a user would run it (`daogou import … --json` in a subprocess). "import s" is the
import's own time (hashing, parsing, writing); "wall s" adds interpreter start-up and exit. Peak memory is
the largest resident set of any one process of the import (the writer or its parser process), cumulative
over the runs so far. Prints a table and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


from daogou.catalog.synthetic import write_events_csv
from _common import machine  # noqa: E402  (bench/ is on sys.path when a script runs)

ROOT = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("DAOGOU_DATASETS", ROOT.parent / "shared" / "datasets"))


def measure(fmt: str, path: Path, home: Path) -> dict:
    """Run one import in a fresh process (as a user would); nothing else runs meanwhile, so timings are clean."""
    cmd = [sys.executable, "-m", "daogou.cli", "--home", str(home), "import", fmt, str(path), "--json"]
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - started
    out, err = proc.stdout, proc.stderr
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # largest process so far (KiB on Linux)
    if proc.returncode not in (0, 3):
        raise SystemExit(f"{cmd} failed ({proc.returncode}): {err}")
    report = json.loads(out)
    events = report["totals"]["events_added"]
    import_s = sum(f["seconds"] for f in report["files"])  # hashing, parsing and writing; no interpreter start
    return {"dataset": path.name, "format": fmt, "events": events, "products": report["totals"]["products_added"],
            "import_s": round(import_s, 2), "events_per_s": round(events / import_s),
            "wall_s": round(wall, 2), "events_per_s_wall": round(events / wall), "peak_rss_mb": round(peak / 2**20, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=1_000_000, help="size of the generated log")
    ap.add_argument("--repeat", type=int, default=3, help="runs per file; the median run is reported")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "import.json")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        taobao = DATASETS / "taobao_userbehavior_head" / "UserBehavior_head84k.csv"
        jobs = [("taobao", taobao)] if taobao.exists() else []
        jobs.append(("events", write_events_csv(tmpdir / f"events_{args.events}.csv", args.events)))
        for fmt, path in jobs:
            runs = [measure(fmt, path, tmpdir / f"h_{fmt}_{k}") for k in range(args.repeat)]
            rows.append(sorted(runs, key=lambda r: r["import_s"])[len(runs) // 2] | {"runs": len(runs)})
    print(f"{'dataset':<26} {'events':>10} {'import s':>9} {'events/s':>9} {'wall s':>7} {'ev/s wall':>10} "
          f"{'peak RSS MB':>12}")
    for r in rows:
        print(f"{r['dataset']:<26} {r['events']:>10,} {r['import_s']:>9} {r['events_per_s']:>9,} {r['wall_s']:>7} "
              f"{r['events_per_s_wall']:>10,} {r['peak_rss_mb']:>12}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    meta = {**machine(),
            "command": "python bench/import.py " + " ".join(sys.argv[1:])}
    args.out.write_text(json.dumps({"meta": meta, "results": rows}, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
