"""kill -9 in the middle of an import: the store stays consistent and running the import again completes it."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import psutil

from daogou.catalog.synthetic import write_events_csv
from tests.conftest import ROOT, cli_json

N_EVENTS = 150_000


def _ledger(db) -> tuple[int, str] | None:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("SELECT lines_done, status FROM imports").fetchone()
    except sqlite3.OperationalError:
        return None  # not created yet


def test_kill_9_then_resume(tmp_path):
    data = write_events_csv(tmp_path / "events.csv", N_EVENTS, n_shoppers=2_000, n_products=5_000, seed=3)
    home = tmp_path / "home"
    db = home / "daogou.db"
    proc = subprocess.Popen([sys.executable, "-m", "daogou.cli", "--home", str(home), "import", "events", str(data)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline:
        row = _ledger(db)
        if row and row[0] > 0:
            break
        time.sleep(0.02)
    else:
        raise AssertionError("import never committed a batch")
    children = psutil.Process(proc.pid).children(recursive=True)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    lines_done, status = _ledger(db)
    assert status == "running" and 0 < lines_done < N_EVENTS + 1, (lines_done, status)

    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        committed = conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        orphans = conn.execute("SELECT COUNT(*) FROM events e LEFT JOIN products p ON p.id = e.product_id "
                               "WHERE p.id IS NULL").fetchone()[0]
    lines_done, _ = _ledger(db)
    assert committed == lines_done - 1  # one event per line after the header: exactly the committed batches
    assert orphans == 0
    _, alive = psutil.wait_procs(children, timeout=15)
    assert not alive, "the parser process outlived the killed import"

    resumed = cli_json("import", "events", str(data), home=home)
    assert resumed["files"][0]["resumed_from_line"] == lines_done
    assert resumed["totals"]["events_added"] == N_EVENTS  # cumulative: the interrupted run counts too
    assert resumed["totals"]["events_read"] == N_EVENTS  # every count in the report covers the whole file
    assert resumed["totals"]["lines"] == N_EVENTS + 1

    clean_home = tmp_path / "clean"
    cli_json("import", "events", str(data), home=clean_home)
    uids = []
    for h in (home, clean_home):
        with sqlite3.connect(h / "daogou.db") as conn:
            uids.append(conn.execute("SELECT COUNT(*), SUM(uid % 1000003) FROM events").fetchone())
    assert uids[0] == uids[1] and uids[0][0] == N_EVENTS  # the resumed run wrote only the rest: no line twice
