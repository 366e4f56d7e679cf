"""Load and soak: many shopper sessions at once against a real `daogou serve` (template writer) on loopback.

    python bench/soak.py                               # 200 sessions for 60 s, then 50 sessions for 600 s
    python bench/soak.py --load-s 20 --soak-s 60       # shorter

A session is a shopper on the page: a guest token, then, with a think time of 0.5–1.5 s between actions, a search,
a recommendation, a product view (an event) and a chat turn of a three-turn conversation, over and over. The
load phase reports latency per action and errors; the soak phase also samples the server's resident memory and
open file descriptors every 5 s, and reports their growth from the end of the first minute to the end (the
first minute fills caches). Rate limits are off for the benchmark server; the clients share the machine with it.
Writes bench/results/soak.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, write_result  # noqa: E402
from serve import CHAT, QUERIES, Connection, Server, ensure_demo  # noqa: E402

GOALS = {"chat_p95_ms": 1000, "search_p99_ms": 100, "memory_growth": 0.10}


async def _session(base: str, until: float, seed: int, samples: dict[str, list[float]], errors: dict[str, int],
                   products: list[str]) -> None:
    rng = random.Random(seed)
    url = urlsplit(base)
    anon = Connection(url.hostname, url.port, {})
    status, payload = await anon.request("POST", "/v1/auth/guest")
    await anon.close()
    if status != 200:
        errors[f"guest {status}"] = errors.get(f"guest {status}", 0) + 1
        return
    conn = Connection(url.hostname, url.port, {"Authorization": "Bearer " + json.loads(payload)["token"]})
    script, step, conv = CHAT[seed % len(CHAT)], 0, None
    actions = ["search", "recommend", "event", "chat"]
    n = seed
    while time.monotonic() < until:
        await asyncio.sleep(rng.uniform(0.5, 1.5))
        kind = actions[n % len(actions)]
        n += 1
        t0 = time.perf_counter()
        try:
            if kind == "search":
                call = conn.request("GET", "/v1/search?" + urlencode({"q": rng.choice(QUERIES), "k": 10}))
            elif kind == "recommend":
                call = conn.request("GET", "/v1/recommend?n=10")
            elif kind == "event":
                body = {"type": "view", "product_id": rng.choice(products), "session_id": f"soak-{seed}"}
                call = conn.request("POST", "/v1/events", json.dumps(body).encode())
            else:
                body = {"message": script[step % len(script)]}
                if conv and step % len(script):
                    body["conversation_id"] = conv
                step += 1
                call = conn.request("POST", "/v1/chat", json.dumps(body).encode())
            status, payload = await asyncio.wait_for(call, 60)
            if kind == "chat" and status == 200:
                conv = json.loads(payload)["conversation_id"]
            if status not in (200, 201):
                errors[f"{kind} {status}"] = errors.get(f"{kind} {status}", 0) + 1
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
            errors[f"{kind} {type(exc).__name__}"] = errors.get(f"{kind} {type(exc).__name__}", 0) + 1
            await conn.close()
        samples[kind].append((time.perf_counter() - t0) * 1000)
    await conn.close()


def _stats(samples: dict[str, list[float]]) -> dict:
    out = {}
    for kind, ms in samples.items():
        if ms:
            a = np.array(ms)
            out[kind] = {"requests": len(ms), "p50_ms": round(float(np.percentile(a, 50)), 1),
                         "p95_ms": round(float(np.percentile(a, 95)), 1),
                         "p99_ms": round(float(np.percentile(a, 99)), 1)}
    return out


async def phase(base: str, sessions: int, seconds: float, server_pid: int, products: list[str]) -> dict:
    samples: dict[str, list[float]] = {k: [] for k in ("search", "recommend", "event", "chat")}
    errors: dict[str, int] = {}
    proc = psutil.Process(server_pid)
    trace: list[dict] = []
    until = time.monotonic() + seconds
    started = time.monotonic()

    async def sampler() -> None:
        while time.monotonic() < until:
            trace.append({"t_s": round(time.monotonic() - started, 1), "rss_mb": round(proc.memory_info().rss / 2**20, 1),
                          "fds": proc.num_fds()})
            await asyncio.sleep(5)

    await asyncio.gather(sampler(), *(_session(base, until, i, samples, errors, products) for i in range(sessions)))
    trace.append({"t_s": round(time.monotonic() - started, 1), "rss_mb": round(proc.memory_info().rss / 2**20, 1),
                  "fds": proc.num_fds()})
    warm = next((p for p in trace if p["t_s"] >= min(60.0, seconds / 2)), trace[0])
    last = trace[-1]
    return {"sessions": sessions, "seconds": seconds, "by_action": _stats(samples),
            "requests": sum(len(v) for v in samples.values()), "errors": sum(errors.values()), "error_kinds": errors,
            "rss_mb_after_warmup": warm["rss_mb"], "rss_mb_end": last["rss_mb"],
            "memory_growth": round((last["rss_mb"] - warm["rss_mb"]) / warm["rss_mb"], 4),
            "fds_after_warmup": warm["fds"], "fds_end": last["fds"], "trace": trace}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", type=Path, default=ROOT / "bench" / ".work" / "serve-demo")
    ap.add_argument("--load-sessions", type=int, default=200)
    ap.add_argument("--load-s", type=float, default=60)
    ap.add_argument("--soak-sessions", type=int, default=50)
    ap.add_argument("--soak-s", type=float, default=600)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    ensure_demo(args.home)
    server = Server(args.home, "template", ROOT / "bench" / ".work" / "soak-server.log")
    try:
        import httpx
        products = [h["id"] for h in httpx.get(server.base + "/v1/search", params={"q": "headphones", "k": 20},
                                               timeout=30).json()["hits"]]
        load = asyncio.run(phase(server.base, args.load_sessions, args.load_s, server.proc.pid, products))
        soak = asyncio.run(phase(server.base, args.soak_sessions, args.soak_s, server.proc.pid, products))
    finally:
        server.close()
    met = {"chat_p95_ms": load["by_action"]["chat"]["p95_ms"] <= GOALS["chat_p95_ms"],
           "search_p99_ms": load["by_action"]["search"]["p99_ms"] <= GOALS["search_p99_ms"],
           "errors": load["errors"] == 0 and soak["errors"] == 0,
           "memory_growth": soak["memory_growth"] <= GOALS["memory_growth"],
           "fds": soak["fds_end"] <= soak["fds_after_warmup"] + 5}
    path = write_result("soak", {"goals": GOALS, "met": met, "load": load, "soak": soak}, args.out)
    for name, p in (("load", load), ("soak", soak)):
        print(f"\n{name}: {p['sessions']} sessions for {p['seconds']:.0f} s, {p['requests']} requests, "
              f"{p['errors']} errors {p['error_kinds'] or ''}")
        for kind, s in p["by_action"].items():
            print(f"  {kind:9} {s['requests']:6} requests  p50 {s['p50_ms']:7.1f}  p95 {s['p95_ms']:7.1f}  "
                  f"p99 {s['p99_ms']:7.1f} ms")
        print(f"  server RSS {p['rss_mb_after_warmup']} → {p['rss_mb_end']} MB ({100 * p['memory_growth']:+.1f}%), "
              f"fds {p['fds_after_warmup']} → {p['fds_end']}")
    print(f"\ngoals: {json.dumps(met)}; wrote {path}")
    return 0 if all(met.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
