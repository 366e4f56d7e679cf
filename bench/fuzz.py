"""API fuzzing: schemathesis generates requests for every operation in a real `daogou serve`'s ``/openapi.json`` and
checks every response against what the document declares (status codes, content types, body schemas, headers).

    python bench/fuzz.py                         # builds a small demo home under bench/.work/fuzz if missing
    python bench/fuzz.py --examples 60           # generated requests per operation and caller
    python bench/fuzz.py --home H --out F.json   # an existing served home (the tests run it this way, briefly)

Each operation is called as three callers: anonymous, a signed-in shopper, and an admin (shopper token + admin key),
so the refusals (401/403) are exercised as well as the answers. Schema-valid inputs that the library still refuses
(a filter string it cannot read) are a 422 with a problem detail, which the document declares; the checks are
schemathesis's ``not_a_server_error``, ``status_code_conformance``, ``content_type_conformance``,
``response_schema_conformance``, ``response_headers_conformance`` and ``allow_header_conformance``.
Writes bench/results/fuzz.json.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, write_result  # noqa: E402

ADMIN_KEY = "fuzz-admin-key"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_home(home: Path) -> None:
    """A small demo store with a search index and a briefly trained recommender (hashing encoder: seconds)."""
    if (home / "models" / "daogou-rec" / "manifest.json").exists():
        return
    from daogou.catalog.demo import DemoConfig
    from daogou.catalog.demo_store import build_demo_store
    from daogou.catalog.store import Store
    from daogou.config import StoreConfig
    from daogou.rec.data import DataConfig
    from daogou.rec.workflow import train, train_config_for
    from daogou.search.engine import SearchConfig
    from daogou.search.index_store import open_searcher
    shutil.rmtree(home, ignore_errors=True)
    with Store.open(StoreConfig(home=home)) as store:
        build_demo_store(store, DemoConfig(n_products=480, n_shoppers=300))
        open_searcher(store, SearchConfig(encoder="hashing"))
        train(store, "daogou-rec", DataConfig(encoder="hashing"), train_config_for("daogou-rec", epochs=3,
              progress=False), home / "models" / "daogou-rec", log=lambda m: None)


class Server:
    def __init__(self, home: Path, log: Path):
        self.base = f"http://127.0.0.1:{free_port()}"
        env = {**os.environ, "DAOGOU_ADMIN_KEYS": ADMIN_KEY, "DAOGOU_DEMO_LOGIN": "true", "DAOGOU_RATE_PER_S": "0",
               "DAOGOU_CHAT_RATE_PER_S": "0", "DAOGOU_AUTH_RATE_PER_S": "0"}
        self.log = open(log, "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "daogou.cli", "--home", str(home), "serve", "--encoder",
                                      "hashing", "--llm", "template", "--port", self.base.rsplit(":", 1)[1]],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        deadline = time.monotonic() + 120
        while True:
            if self.proc.poll() is not None:
                raise SystemExit(f"server exited {self.proc.returncode}; see {log}")
            try:
                if httpx.get(self.base + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"server not ready in 120 s; see {log}")
            time.sleep(0.3)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def _runner(operation, examples: int):
    """Run ``call(case)`` on ``examples`` generated cases of one operation (hypothesis drives the generation)."""
    from hypothesis import HealthCheck, given, settings

    def run(call) -> None:
        @given(case=operation.as_strategy())
        @settings(max_examples=examples, deadline=None, database=None, derandomize=True, print_blob=False,
                  suppress_health_check=list(HealthCheck))
        def each(case):
            call(case)
        each()
    return run


def fuzz(base: str, examples: int, seed: int) -> dict:
    import schemathesis
    from schemathesis import checks
    from schemathesis.core.failures import FailureGroup

    token = httpx.post(base + "/v1/auth/guest", timeout=30).json()["token"]
    # Half of the cases get real ids instead of generated ones, so the answers are exercised as well as the 404s.
    real = {"product_id": [h["id"] for h in httpx.get(base + "/v1/search", params={"q": "headphones", "k": 5},
                                                        timeout=30).json()["hits"]],
            "conversation_id": [httpx.post(base + "/v1/chat", json={"message": "headphones"}, timeout=60,
                                           headers={"Authorization": f"Bearer {token}"}).json()["conversation_id"]]}
    callers = {"anonymous": {}, "shopper": {"Authorization": f"Bearer {token}"},
               "admin": {"Authorization": f"Bearer {token}", "X-API-Key": ADMIN_KEY}}
    chosen = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
              checks.response_schema_conformance, checks.response_headers_conformance,
              checks.allow_header_conformance]
    schema = schemathesis.openapi.from_url(base + "/openapi.json")
    statuses: collections.Counter = collections.Counter()
    per_operation: dict[str, collections.Counter] = {}
    failures: list[dict] = []
    requests = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        label = f"{operation.method.upper()} {operation.path}"
        counts = per_operation.setdefault(label, collections.Counter())
        for caller, headers in callers.items():
            run = _runner(operation, examples)

            def call(case, headers=headers, caller=caller, counts=counts, label=label):
                nonlocal requests
                if requests % 2 == 0:  # and without a generated service key, which is refused before anything
                    for name in [h for h in (case.headers or {}) if h.lower() == "x-service-key"]:
                        del case.headers[name]
                    for key, values in real.items():
                        if key in (case.path_parameters or {}):
                            case.path_parameters[key] = values[requests % len(values)]
                        if isinstance(case.body, dict) and key in case.body:
                            case.body[key] = values[requests % len(values)]
                response = case.call(base_url=base, headers=headers, timeout=60)
                requests += 1
                statuses[f"{response.status_code // 100}xx"] += 1
                counts[response.status_code] += 1
                try:
                    case.validate_response(response, checks=chosen, headers=headers)
                except FailureGroup as group:
                    for f in group.exceptions:
                        failures.append({"operation": label, "caller": caller, "status": response.status_code,
                                         "check": type(f).__name__, "title": getattr(f, "title", ""),
                                         "message": str(getattr(f, "message", f))[:300],
                                         "request": f"{case.method} {case.formatted_path} {case.query or ''}"[:300]})
                except AssertionError as exc:  # a single failure is raised as itself
                    failures.append({"operation": label, "caller": caller, "status": response.status_code,
                                     "check": type(exc).__name__, "title": getattr(exc, "title", ""),
                                     "message": str(exc)[:300],
                                     "request": f"{case.method} {case.formatted_path} {case.query or ''}"[:300]})
            run(call)
    by_check = collections.Counter(f["check"] for f in failures)
    return {"requests": requests, "operations": len(per_operation), "callers": list(callers),
            "examples_per_operation_and_caller": examples, "seed": seed,
            "responses_by_class": {str(k): v for k, v in sorted(statuses.items())},
            "server_errors": statuses.get("5xx", 0), "violations": len(failures), "violations_by_check": dict(by_check),
            "per_operation": {k: {str(s): n for s, n in sorted(v.items())} for k, v in per_operation.items()},
            "failures": failures[:50]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", type=Path, default=None, help="a served home (copied; default: a small demo home)")
    ap.add_argument("--examples", type=int, default=60, help="generated requests per operation and caller")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None, help="default bench/results/fuzz.json")
    args = ap.parse_args(argv)
    work = ROOT / "bench" / ".work" / "fuzz"
    source = args.home or work / "demo"
    if args.home is None:
        build_home(source)
    home = work / f"run-{os.getpid()}"
    shutil.rmtree(home, ignore_errors=True)
    shutil.copytree(source, home)  # the fuzzer imports and records events: never into the source
    server = Server(home, work / "server.log")
    started = time.perf_counter()
    try:
        result = fuzz(server.base, args.examples, args.seed)
        result["server_alive_after"] = server.alive()
    finally:
        server.close()
        shutil.rmtree(home, ignore_errors=True)
    result["seconds"] = round(time.perf_counter() - started, 1)
    path = write_result("fuzz", result, args.out)
    print(f"{'operation':42} " + " ".join(f"{c:>5}" for c in ("2xx", "4xx", "5xx")))
    for label, counts in result["per_operation"].items():
        by = collections.Counter()
        for s, n in counts.items():
            by[int(s) // 100] += n
        print(f"{label:42} {by[2]:5} {by[4]:5} {by[5]:5}")
    print(f"\n{result['requests']} requests over {result['operations']} operations in {result['seconds']} s: "
          f"{result['server_errors']} server errors, {result['violations']} schema violations "
          f"{json.dumps(result['violations_by_check'])}; wrote {path}")
    for f in result["failures"][:10]:
        print(f"  {f['operation']} [{f['caller']}] {f['status']} {f['check']}: {f['message'][:160]}")
    return 0 if result["server_errors"] == 0 and result["violations"] == 0 and result["server_alive_after"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
