"""Crash safety, measured: `kill -9` of `daogou serve` under load, of `daogou train` and of `daogou index` at many
moments, and a full disk — and after each, what was acknowledged is still there and what was saved is the old
or the new version, never half.

    python bench/chaos.py                        # 5 server kills, 8 training kills, 8 indexing kills, a full disk
    python bench/chaos.py --home H --quick       # one of each (the tests run it this way)

Server: 20 clients send events and chat turns; the server is killed after a few seconds and restarted on the same
home; every event that got a 201 must be in the store, every answered conversation must continue, and SQLite's
``integrity_check`` must pass. Training and indexing: killed at moments spread over a run; after each kill the
bundle's hashes verify (``bundle.load``) and a search answers. Full disk: a 3 MB tmpfs home (needs root to mount;
reported as skipped otherwise); an import that cannot fit fails with a clear message and keeps what was committed
before. Writes bench/results/chaos.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, write_result  # noqa: E402
from fuzz import build_home  # noqa: E402
from serve import Server  # noqa: E402
from daogou.assist.state import MAX_TURNS  # noqa: E402

ENV = {"DAOGOU_RATE_PER_S": "0", "DAOGOU_CHAT_RATE_PER_S": "0", "DAOGOU_AUTH_RATE_PER_S": "0"}
CLI = [sys.executable, "-m", "daogou.cli"]


def integrity(home: Path) -> str:
    with sqlite3.connect(home / "daogou.db") as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


def _clients(base: str, n: int, stop: threading.Event, acknowledged: list, answered: dict) -> list[threading.Thread]:
    lock = threading.Lock()

    def client(i: int) -> None:
        with httpx.Client(base_url=base, timeout=10) as c:
            try:
                h = {"Authorization": "Bearer " + c.post("/v1/auth/guest").json()["token"]}
                products = [x["id"] for x in c.get("/v1/search", params={"q": "headphones"}).json()["hits"]]
                conv, k = None, 0
                while not stop.is_set():
                    k += 1
                    if k % 4 == 0:
                        body = {"message": ["headphones", "cheaper", "the second one"][k % 3]}
                        if conv:
                            body["conversation_id"] = conv
                        r = c.post("/v1/chat", json=body, headers=h)
                        if r.status_code == 200:
                            conv = r.json()["conversation_id"]
                            with lock:
                                answered[conv] = (h, answered.get(conv, (h, 0))[1] + 1)
                    else:
                        session = f"chaos-{time.monotonic_ns()}-{i}-{k}"
                        r = c.post("/v1/events", json={"type": "view", "product_id": products[k % len(products)],
                                                       "session_id": session}, headers=h)
                        if r.status_code == 201:
                            with lock:
                                acknowledged.append((r.json()["shopper_id"], session))
            except httpx.HTTPError:
                return  # the server died under us: what it acknowledged is what counts
    return [threading.Thread(target=client, args=(i,)) for i in range(n)]


def server_kills(home: Path, rounds: int, clients: int = 20, seconds: float = 4.0) -> dict:
    """Kill the server under load ``rounds`` times; count what was acknowledged and what was lost."""
    log = home.parent / "chaos-server.log"
    acknowledged: list[tuple[str, str]] = []
    answered: dict[str, tuple[dict, int]] = {}
    bad_integrity = 0
    for _ in range(rounds):
        server = Server(home, "template", log, env=ENV, args=("--encoder", "hashing"))
        stop = threading.Event()
        threads = _clients(server.base, clients, stop, acknowledged, answered)
        for t in threads:
            t.start()
        time.sleep(seconds)
        os.kill(server.proc.pid, signal.SIGKILL)
        server.proc.wait()
        server.log.close()
        stop.set()
        for t in threads:
            t.join(timeout=30)
        bad_integrity += integrity(home) != "ok"
    with sqlite3.connect(home / "daogou.db") as conn:
        stored = set(conn.execute("SELECT shopper_id, session_id FROM events WHERE session_id LIKE 'chaos-%'"))
    lost = len(set(acknowledged) - stored)
    server = Server(home, "template", log, env=ENV, args=("--encoder", "hashing"))
    continued, broken = 0, []
    try:
        with httpx.Client(base_url=server.base, timeout=30) as c:
            for conv, (h, turns) in answered.items():
                r = c.get(f"/v1/conversations/{conv}", headers=h)
                kept = sum(t["role"] == "assistant" for t in r.json()["turns"]) if r.status_code == 200 else 0
                # a conversation keeps its last MAX_TURNS turns (shopper and assistant): older ones are let go
                if r.status_code == 200 and kept >= min(turns, MAX_TURNS // 2):
                    continued += 1
                else:
                    broken.append({"status": r.status_code, "answered_turns": turns, "kept_turns": kept})
    finally:
        server.close()
    return {"kills": rounds, "clients": clients, "events_acknowledged": len(acknowledged), "events_lost": lost,
            "conversations_answered": len(answered), "conversations_continued": continued,
            "conversations_broken": broken[:10],
            "integrity_failures": bad_integrity}


def _kill_at(cmd: list[str], delays: list[float], check) -> tuple[int, int]:
    """Run ``cmd`` once per delay, kill -9 it then (if still running), ``check()`` after each: (killed, failed)."""
    killed = failed = 0
    for delay in delays:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env={**os.environ, **ENV})
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            killed += 1
        try:
            check()
        except Exception as exc:  # counted, and said
            print(f"  after a kill at {delay} s: {type(exc).__name__}: {exc}", file=sys.stderr)
            failed += 1
    return killed, failed


def train_kills(home: Path, delays: list[float]) -> dict:
    from daogou.rec import bundle
    folder = home / "models" / "daogou-rec"
    versions = {bundle.read_manifest(folder)["created"]}

    def check() -> None:
        versions.add(bundle.load(folder).manifest["created"])  # verifies every file's hash
        assert integrity(home) == "ok"
    killed, failed = _kill_at(CLI + ["--home", str(home), "train", "--encoder", "hashing", "--epochs", "2",
                                     "--fresh"], delays, check)
    return {"runs": len(delays), "killed": killed, "failed_checks": failed, "bundle_versions_seen": len(versions)}


def index_kills(home: Path, delays: list[float]) -> dict:
    def check() -> None:
        out = subprocess.run(CLI + ["--home", str(home), "--json", "search", "headphones", "--encoder", "hashing"],
                             cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr[-500:]
        assert json.loads(out.stdout)["hits"]
    killed, failed = _kill_at(CLI + ["--home", str(home), "index", "--encoder", "hashing", "--rebuild"], delays,
                              check)
    return {"runs": len(delays), "killed": killed, "failed_checks": failed}


def disk_full(work: Path) -> dict:
    disk = work / "disk"
    disk.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        return {"skipped": f"cannot mount a tmpfs: {mounted.stderr.decode().strip()}"}
    try:
        home = disk / "home"
        small, big = work / "small.csv", work / "big.csv"
        small.write_text("id,title,price\n" + "".join(f"A{i},Small thing {i},{i}.5\n" for i in range(100)))
        big.write_text("id,title,description,price\n" + "".join(
            f"B{i},Big thing {i},{'word ' * 120},{i}\n" for i in range(20_000)))  # ~12 MB: cannot fit
        ok = subprocess.run(CLI + ["--home", str(home), "import", "products", str(small)], cwd=ROOT,
                            capture_output=True, text=True)
        full = subprocess.run(CLI + ["--home", str(home), "import", "products", str(big)], cwd=ROOT,
                              capture_output=True, text=True, timeout=300)
        with sqlite3.connect(home / "daogou.db") as conn:
            kept = conn.execute("SELECT COUNT(*) FROM products WHERE id LIKE 'A%'").fetchone()[0]
        last = full.stderr.strip().splitlines()[-1] if full.stderr.strip() else ""
        return {"first_import_ok": ok.returncode == 0, "full_import_failed": full.returncode != 0,
                "clear_message": last.startswith("error:") and "Traceback" not in full.stderr
                and ("space" in last.lower() or "full" in last.lower()),
                "message": last[:300], "committed_products_kept": kept, "integrity": integrity(home)}
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", type=Path, default=None, help="a served home (copied; default: a small demo home)")
    ap.add_argument("--quick", action="store_true", help="one server kill and a few training/indexing kills")
    ap.add_argument("--out", type=Path, default=None, help="default bench/results/chaos.json")
    args = ap.parse_args(argv)
    work = ROOT / "bench" / ".work" / f"chaos-{os.getpid()}"
    source = args.home or ROOT / "bench" / ".work" / "fuzz" / "demo"
    if args.home is None:
        build_home(source)
    started = time.perf_counter()
    result: dict = {}
    try:
        for name, run in (
                ("server", lambda h: server_kills(h, 1 if args.quick else 5)),
                ("train", lambda h: train_kills(h, [0.5, 2.0, 3.5, 60] if args.quick else
                                                [0.3, 0.8, 1.5, 2.2, 3.0, 3.8, 4.6, 5.5, 60])),
                ("index", lambda h: index_kills(h, [0.6, 0.9, 1.1, 60] if args.quick else
                                                [0.5, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 60]))):
            home = work / name / "home"
            shutil.copytree(source, home)
            result[name] = run(home)
            print(name, json.dumps(result[name]), flush=True)
        result["disk_full"] = disk_full(work / "disk_full")
        print("disk_full", json.dumps(result["disk_full"]), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    s, t, i, d = result["server"], result["train"], result["index"], result["disk_full"]
    result["rows_lost"] = s["events_lost"]
    result["crashes_survived"] = s["kills"] + t["killed"] + i["killed"] - t["failed_checks"] - i["failed_checks"] \
        - s["integrity_failures"]
    result["crashes"] = s["kills"] + t["killed"] + i["killed"]
    ok = (s["events_lost"] == 0 and s["integrity_failures"] == 0
          and s["conversations_continued"] == s["conversations_answered"] and t["failed_checks"] == 0
          and i["failed_checks"] == 0 and t["bundle_versions_seen"] >= 2
          and ("skipped" in d or (d["clear_message"] and d["committed_products_kept"] == 100)))
    result["ok"] = ok
    result["seconds"] = round(time.perf_counter() - started, 1)
    path = write_result("chaos", result, args.out)
    print(f"\n{result['crashes']} kills, {result['crashes_survived']} survived; {result['rows_lost']} acknowledged "
          f"events lost of {s['events_acknowledged']}; {s['conversations_continued']} of "
          f"{s['conversations_answered']} conversations continued; disk full: "
          f"{d.get('skipped') or d['message']}; wrote {path}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
