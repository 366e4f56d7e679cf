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
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, write_result  # noqa: E402
from serve import Server  # noqa: E402

ADMIN_KEY = "fuzz-admin-key"


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


def fuzz_files(examples: int) -> dict:
    """The importer property tests (tests/test_import_fuzz.py) with ``examples`` generated inputs each; every file
    they import is logged, so the counts are of real imports."""
    log = ROOT / "bench" / ".work" / "fuzz" / f"files-{os.getpid()}.jsonl"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.unlink(missing_ok=True)
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_import_fuzz.py"],
                          cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "DAOGOU_FUZZ_EXAMPLES": str(examples), "DAOGOU_FUZZ_LOG": str(log)})
    rows = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []
    log.unlink(missing_ok=True)
    by_format = collections.Counter(r["format"] for r in rows)
    return {"examples_per_test": examples, "files": len(rows), "by_format": dict(by_format),
            "lines": sum(r["lines"] for r in rows), "quarantined": sum(r["rejected"] for r in rows),
            "refused_whole": sum(r["refused_whole"] for r in rows), "bytes": sum(r["bytes"] for r in rows),
            "all_accounted": proc.returncode == 0, "pytest_tail": proc.stdout[-600:],
            "seconds": round(time.perf_counter() - started, 1)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", type=Path, default=None, help="a served home (copied; default: a small demo home)")
    ap.add_argument("--examples", type=int, default=60, help="generated requests per operation and caller")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--files", type=int, default=300, help="generated inputs per importer property test (0: none)")
    ap.add_argument("--out", type=Path, default=None, help="default bench/results/fuzz.json")
    args = ap.parse_args(argv)
    work = ROOT / "bench" / ".work" / "fuzz"
    source = args.home or work / "demo"
    if args.home is None:
        build_home(source)
    home = work / f"run-{os.getpid()}"
    shutil.rmtree(home, ignore_errors=True)
    shutil.copytree(source, home)  # the fuzzer imports and records events: never into the source
    server = Server(home, "template", work / "server.log", env={"DAOGOU_ADMIN_KEYS": ADMIN_KEY},
                    args=("--encoder", "hashing"))
    started = time.perf_counter()
    try:
        result = fuzz(server.base, args.examples, args.seed)
        result["server_alive_after"] = server.proc.poll() is None
    finally:
        server.close()
        shutil.rmtree(home, ignore_errors=True)
    result["seconds"] = round(time.perf_counter() - started, 1)
    if args.files:
        result["importers"] = fuzz_files(args.files)
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
    files = result.get("importers")
    if files:
        print(f"importers: {files['files']} generated files ({files['lines']:,} lines, {files['quarantined']:,} "
              f"quarantined, {files['refused_whole']} refused whole with a clear error): "
              f"{'every line accounted for' if files['all_accounted'] else 'FAILED'}\n{files['pytest_tail']}")
    ok = result["server_errors"] == 0 and result["violations"] == 0 and result["server_alive_after"]
    return 0 if ok and (not files or files["all_accounted"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
