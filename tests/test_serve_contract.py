"""One contract from library to HTTP: ``/openapi.json`` declares every answer, and real answers keep to it.

The fuzzing run is ``bench/fuzz.py`` (schemathesis against a real ``daogou serve`` on loopback), here with a few
hundred generated requests; the benchmark sends thousands."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from daogou.serve.app import create_app
from daogou.serve.settings import ServeSettings

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def spec(served_home) -> dict:
    app = create_app(ServeSettings(home=str(served_home), encoder="hashing", llm="template"))
    return TestClient(app).get("/openapi.json").json()


def _operations(spec: dict):
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            yield f"{method.upper()} {path}", op


def test_every_operation_declares_its_answer_and_its_problems(spec):
    ops = dict(_operations(spec))
    assert len(ops) >= 14
    for label, op in ops.items():
        ok = {s: r for s, r in op["responses"].items() if s.startswith("2")}
        assert ok, f"{label}: no success response"
        for status, response in ok.items():
            schema = response["content"]["application/json"]["schema"]
            assert schema.get("$ref") or schema.get("properties"), f"{label} {status}: no response schema"
        for status, response in op["responses"].items():
            if status[0] in "45":
                assert list(response["content"]) == ["application/problem+json"], (label, status)
        assert {"401", "422", "429", "500"} <= set(op["responses"]) or label == "GET /healthz", label
    # the library's own choices are the schema's enumerations (a value it would refuse is a 422, not a 503)
    from daogou.generate.tasks import STYLES, TONES
    copy = spec["components"]["schemas"]["CopyIn"]["properties"]
    assert set(copy["style"]["enum"]) == set(STYLES) and set(copy["tone"]["enum"]) == set(TONES)


def test_generated_requests_get_declared_answers_from_a_real_server(served_home, tmp_path):
    out = tmp_path / "fuzz.json"
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "fuzz.py"), "--home", str(served_home),
                           "--examples", "8", "--files", "0", "--out", str(out)], capture_output=True, text=True, timeout=600,
                          cwd=ROOT)
    assert out.exists(), proc.stdout[-2000:] + proc.stderr[-2000:]
    result = json.loads(out.read_text())
    assert result["requests"] >= 300 and result["operations"] >= 14
    assert result["server_errors"] == 0, result["failures"]
    assert result["violations"] == 0, result["failures"]
    assert result["server_alive_after"]
    # the answers were exercised, not only the refusals
    answered = [op for op, counts in result["per_operation"].items() if any(s.startswith("2") for s in counts)]
    assert len(answered) >= 12, result["per_operation"]
    assert proc.returncode == 0
