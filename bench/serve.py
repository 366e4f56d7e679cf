"""HTTP serving benchmark on loopback: p50/p99 latency and errors of /v1/search, /v1/recommend and /v1/chat at 20 and
100 concurrent clients, against a real `daogou serve` (uvicorn) on the demo store.

    python bench/serve.py                       # builds the demo home under bench/.work/serve-demo if missing
    python bench/serve.py --home .daogou        # an existing demo home (daogou demo --no-serve)
    python bench/serve.py --quick               # fewer requests
    python bench/serve.py --workers 1           # one server process (default: one worker per core)

Each scenario sends a fixed number of requests from N concurrent clients (asyncio, one keep-alive connection each) and
records every request's wall time to the last byte. Rate limits are switched off for the benchmark server. The
clients run on the same machine as the server, so they take CPU from it. Writes bench/results/serve.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from _common import machine  # noqa: E402  (bench/ is on sys.path when a script runs)

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"

QUERIES = ["headphones", "red running shoes under 300", "耳机 500元以内", "yoga mat", "蓝色 连衣裙", "backpack",
           "phone case not Casora", "wireless earbuds", "hiking shoes", "t-shirt", "skincare", "building blocks",
           "charger 33W", "bedding", "socks", "kitchen", "hair care", "黑色 背包", "便宜的手机壳", "dress under 200"]
CHAT = [["headphones", "cheaper", "the second one"], ["耳机", "便宜一点", "第二个"],
        ["running shoes under 500", "in red", "compare the first two"], ["a gift", "under 300", "the first one"]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_demo(home: Path) -> None:
    if (home / "models" / "daogou-rec" / "manifest.json").exists():
        return
    print(f"building the demo home in {home} (daogou demo --no-serve) …", flush=True)
    subprocess.run([sys.executable, "-m", "daogou.cli", "--home", str(home), "demo", "--no-serve"], check=True,
                   cwd=ROOT)


class Server:
    """A real `daogou serve` on a loopback port with rate limits off (``env``/``args`` add to its settings;
    ``workers``: its worker processes, default daogou's own: one per core)."""

    def __init__(self, home: Path, llm: str, log: Path, env: dict[str, str] | None = None, args: tuple = (),
                 workers: int | None = None):
        if workers is not None:
            args = ("--workers", str(workers), *args)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "DAOGOU_DEMO_LOGIN": "true", "DAOGOU_RATE_PER_S": "0", "DAOGOU_CHAT_RATE_PER_S": "0",
               "DAOGOU_AUTH_RATE_PER_S": "0", **(env or {})}
        self.log = open(log, "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "daogou.cli", "--home", str(home), "serve", "--llm", llm,
                                      "--port", str(self.port), *args], stdout=self.log, stderr=subprocess.STDOUT,
                                     env=env, cwd=ROOT)
        deadline = time.monotonic() + 180
        while True:
            if self.proc.poll() is not None:
                raise SystemExit(f"server exited {self.proc.returncode}; see {log}")
            try:
                if httpx.get(self.base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"server not ready in 180 s; see {log}")
            time.sleep(0.3)

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


async def _tokens(base: str, n: int) -> list[str]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        shoppers = (await c.get("/v1/demo/shoppers")).json()["shoppers"]
        out = []
        for i in range(n):
            r = await c.post("/v1/auth/demo", json={"shopper_id": shoppers[i % len(shoppers)]["id"]})
            out.append(r.json()["token"])
        return out


class Connection:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams, so that the load generator costs the shared CPU
    far less than a full client library would (the server is what is measured)."""

    def __init__(self, host: str, port: int, headers: dict[str, str]):
        self.host, self.port = host, port
        self.headers = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.reader = self.writer = None

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = (f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n{self.headers}"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("server closed the connection")
        status, length, close = int(status_line.split()[1]), 0, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "connection" and "close" in value.lower():
                close = True
        payload = await self.reader.readexactly(length)
        if close:
            await self.close()
        return status, payload

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


async def run_scenario(base: str, kind: str, clients: int, requests: int, timeout_s: float) -> dict:
    from urllib.parse import urlencode, urlsplit
    tokens = await _tokens(base, clients)
    url = urlsplit(base)
    latencies: list[float] = []
    errors: dict[str, int] = {}
    counter = iter(range(requests))

    async def client(i: int) -> None:
        conn = Connection(url.hostname, url.port, {"Authorization": f"Bearer {tokens[i]}"})
        conv, script, step = None, CHAT[i % len(CHAT)], 0
        for n in counter:
            t0 = time.perf_counter()
            try:
                if kind == "search":
                    call = conn.request("GET", "/v1/search?" + urlencode({"q": QUERIES[n % len(QUERIES)], "k": 10}))
                elif kind == "recommend":
                    call = conn.request("GET", "/v1/recommend?n=10")
                else:
                    body = {"message": script[step % len(script)]}
                    if conv and step % len(script):
                        body["conversation_id"] = conv
                    call = conn.request("POST", "/v1/chat", json.dumps(body).encode())
                    step += 1
                status, payload = await asyncio.wait_for(call, timeout_s)
                if kind == "chat" and status == 200:
                    conv = json.loads(payload)["conversation_id"]
                if status != 200:
                    errors[str(status)] = errors.get(str(status), 0) + 1
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                await conn.close()
            latencies.append(time.perf_counter() - t0)
        await conn.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    wall = time.perf_counter() - t0
    ms = np.array(latencies) * 1000
    return {"endpoint": kind, "clients": clients, "requests": len(latencies), "errors": sum(errors.values()),
            "error_kinds": errors, "p50_ms": round(float(np.percentile(ms, 50)), 1),
            "p99_ms": round(float(np.percentile(ms, 99)), 1), "max_ms": round(float(ms.max()), 1),
            "throughput_rps": round(len(latencies) / wall, 1), "seconds": round(wall, 1)}


def measure(args, scale: float) -> list[dict]:
    """One run: a fresh server per LLM, each on a fresh copy of the demo home (the events its chats record would
    otherwise lengthen the shoppers' histories run after run), the planned requests at each client count."""
    plan = {"search": 2000, "recommend": 1000, "chat:template": 300, "chat:llamacpp": 60}
    rows = []
    for llm in args.llms:
        copy = Path(tempfile.mkdtemp(prefix="daogou-serve-"))
        shutil.copytree(args.home, copy / "home")
        server = Server(copy / "home", llm, args.out.with_name(f"serve-{llm}.log"), workers=args.workers,
                        args=("--encoder", args.encoder) if args.encoder else ())
        try:
            info = httpx.get(server.base + "/healthz").json()
            # warm-up: caches and first model calls, in every worker (each has its own): as many connections as the
            # largest client count, so the kernel hands some to each worker, and every query several times
            warm = max(args.clients)
            asyncio.run(run_scenario(server.base, "search", warm, 20 * len(QUERIES), 60))
            asyncio.run(run_scenario(server.base, "recommend", warm, 5 * warm, 60))
            for clients in args.clients:
                kinds = (["search", "recommend"] if llm == args.llms[0] else []) + ["chat"]
                for kind in kinds:
                    n = int(plan[f"chat:{llm}" if kind == "chat" else kind] * scale * max(1, clients / 20) ** 0.5)
                    n = max(n, clients)
                    row = asyncio.run(run_scenario(server.base, kind, clients, n, 600))
                    row.update({"llm": llm if kind == "chat" else "-", "model": info.get("llm", "")})
                    rows.append(row)
                    print(f"{kind:9s} {row['llm']:9s} clients {clients:3d}: p50 {row['p50_ms']:8.1f} ms  "
                          f"p99 {row['p99_ms']:8.1f} ms  {row['throughput_rps']:7.1f} req/s  errors {row['errors']}",
                          flush=True)
        finally:
            server.close()
            shutil.rmtree(copy, ignore_errors=True)
    return rows


def run_goals(rows: list[dict]) -> dict:
    """The serving goals at 20 clients: search p99 ≤ 50 ms, recommend p99 ≤ 100 ms, no errors."""
    at = {r["endpoint"]: r for r in rows if r["clients"] == 20}
    search, rec = at.get("search"), at.get("recommend")
    return {"search_p99_ms": search and search["p99_ms"], "recommend_p99_ms": rec and rec["p99_ms"],
            "errors": sum(r["errors"] for r in rows),
            "met": bool(search and rec and search["p99_ms"] <= 50 and rec["p99_ms"] <= 100
                        and sum(r["errors"] for r in rows) == 0)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--home", type=Path, default=ROOT / "bench" / ".work" / "serve-demo")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--llms", nargs="+", default=["template", "llamacpp"])
    ap.add_argument("--clients", nargs="+", type=int, default=[20, 100])
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                    help="worker processes of the server (default: the number of cores)")
    ap.add_argument("--scale", type=float, default=None,
                    help="fraction of the planned requests (default 1, or 0.25 with --quick; e.g. 0.01 for a smoke run)")
    ap.add_argument("--encoder", default=None, help="the home's search encoder, when not daogou's default")
    ap.add_argument("--out", type=Path, default=RESULTS / "serve.json", help="where the results go (and the logs)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run the whole measurement this many times, each on a fresh server (the JSON keeps every run)")
    args = ap.parse_args()
    ensure_demo(args.home)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    scale = args.scale if args.scale is not None else 0.25 if args.quick else 1.0
    runs = []
    for run in range(args.repeat):
        if args.repeat > 1:
            print(f"run {run + 1} of {args.repeat} (a fresh server)", flush=True)
        runs.append(measure(args, scale))
    rows = runs[0]
    goal = next((r for r in rows if r["endpoint"] == "search" and r["clients"] == 20), None)
    command = "python bench/serve.py" + (" --quick" if args.quick else "") + \
        (f" --scale {args.scale:g}" if args.scale is not None else "") + f" --workers {args.workers}" + \
        (f" --llms {' '.join(args.llms)}" if args.llms != ["template", "llamacpp"] else "") + \
        (f" --clients {' '.join(map(str, args.clients))}" if args.clients != [20, 100] else "") + \
        (f" --repeat {args.repeat}" if args.repeat > 1 else "")
    out = {"meta": machine(), "command": command, "machine": platform.platform(),
           "cpus": os.cpu_count(), "workers": args.workers, "home": str(args.home), "rows": rows,
           "goal_search_p99_ms_at_20": 50, "goal_met": bool(goal and goal["p99_ms"] <= 50 and goal["errors"] == 0),
           "errors_total": sum(r["errors"] for r in rows),
           "runs": [{"rows": r, **run_goals(r)} for r in runs]}
    args.out.write_text(json.dumps(out, indent=2, ensure_ascii=False))
    print()
    print("| endpoint | LLM | clients | requests | p50 ms | p99 ms | req/s | errors |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['endpoint']} | {r['llm']} | {r['clients']} | {r['requests']} | {r['p50_ms']} | {r['p99_ms']} | "
              f"{r['throughput_rps']} | {r['errors']} |")
    print(f"\nsearch p99 at 20 clients ≤ 50 ms: {'met' if out['goal_met'] else 'MISSED'}; "
          f"errors in all: {out['errors_total']}")
    if len(runs) > 1:
        for i, r in enumerate(out["runs"], 1):
            print(f"run {i}: search p99 {r['search_p99_ms']} ms, recommend p99 {r['recommend_p99_ms']} ms, "
                  f"errors {r['errors']} — {'met' if r['met'] else 'MISSED'}")
        print(f"goals met in {sum(r['met'] for r in out['runs'])} of {len(runs)} runs")


if __name__ == "__main__":
    main()
