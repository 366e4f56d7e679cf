"""Importers under generated bad input (hypothesis): whatever the file, the import never crashes, and every line
is accounted for — imported, quarantined (with its line, field and reason) or a repeat of an earlier one —
as the store, the ``rejects`` table and ``quarantine.jsonl`` all say the same."""

from __future__ import annotations

import csv
import io
import json
import math
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daogou.catalog.importers import run_import
from daogou.catalog.store import Store
from daogou.config import StoreConfig
from daogou.errors import ImportFailed

# The default run keeps it short; `python bench/fuzz.py --files N` runs the same tests with N examples each and
# counts the files from DAOGOU_FUZZ_LOG (one JSON line per import).
EXAMPLES = int(os.environ.get("DAOGOU_FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=EXAMPLES <= 40,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large])

nasty_text = st.one_of(
    st.text(max_size=40),                                   # any unicode: NUL, quotes, newlines, RTL, emoji
    st.sampled_from(["", " ", '"', '""', "a,b", "a\tb", "line\nbreak", "\x00", "\r\n", "NaN", "null", "\ufeff"]),
    st.just("x" * 1_000_000),                               # a 1 MB field
)
nasty_price = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),         # NaN, ±inf, negative, 1e308
    st.integers(min_value=-10**30, max_value=10**30),
    st.sampled_from(["", "abc", "¥12.5", "$1,299.00", "12,5", "-3", "1e309", "0x10", "∞", "１２３"]),
)
ids = st.one_of(st.sampled_from(["P1", "P2", "P3", "p1", " P1 ", ""]), st.text(max_size=12))
product = st.fixed_dictionaries({"id": ids, "title": nasty_text, "price": nasty_price, "brand": nasty_text,
                                 "category": nasty_text, "in_stock": st.sampled_from(["true", "0", "maybe", ""])})


def _import(tmp: Path, fmt: str, path: Path):
    """(report or None, store counts, quarantine entries, rejects rows); ImportFailed is a clear whole-file error."""
    home = tmp / "home"
    with Store.open(StoreConfig(home=home)) as store:
        try:
            report = run_import(store, fmt, path, progress=False, parallel=False)
        except ImportFailed as exc:
            assert str(path) in str(exc) or path.name in str(exc), exc  # names the file
            _log(fmt, path, None)
            return None, {}, [], 0
        counts = {t: store.count(t) for t in ("products", "events", "shoppers")}
        with store.engine.connect() as conn:
            rejects = conn.execute(sa.text("SELECT COUNT(*) FROM rejects")).scalar()
        qpath = store.config.quarantine_path
        # JSON lines are split on "\n" only: a raw U+2028 or \x85 inside a string is not a line break
        quarantined = [json.loads(line) for line in qpath.read_text(encoding="utf-8").split("\n") if line] \
            if qpath.exists() else []
    _log(fmt, path, report)
    return report, counts, quarantined, rejects


def _log(fmt: str, path: Path, report) -> None:
    if os.environ.get("DAOGOU_FUZZ_LOG"):
        f = report.files[0] if report is not None else None
        with open(os.environ["DAOGOU_FUZZ_LOG"], "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"format": fmt, "file": path.suffix, "bytes": path.stat().st_size,
                                 "refused_whole": report is None, "lines": f.lines if f else 0,
                                 "rejected": f.rejected if f else 0,
                                 "imported": (f.products_read + f.events_read) if f else 0}) + "\n")


def _consistent(report, counts, quarantined, rejects, physical_lines: int) -> None:
    f = report.files[0]
    assert f.rejected == len(quarantined) == rejects
    assert counts["products"] == f.products_added and counts["events"] == f.events_added
    for q in quarantined:
        assert 1 <= q["line"] <= physical_lines + 1 and q["field"] and q["reason"], q


def _csv_records(rows: list[dict], delimiter: str = ",") -> tuple[str, list[int]]:
    """The file text and each record's first physical line (the importers number lines that way)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(list(rows[0]))
    starts = []
    for r in rows:
        starts.append(out.getvalue().count("\n") + 1)
        writer.writerow([_cell(v) for v in r.values()])
    return out.getvalue(), starts


def _cell(v) -> str:
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    return str(v)


@pytest.mark.parametrize("kind", ["csv", "tsv"])
@FUZZ
@given(rows=st.lists(product, min_size=1, max_size=12))
def test_generated_product_tables_are_accounted_for_line_by_line(tmp_path_factory, kind, rows):
    tmp = tmp_path_factory.mktemp("fuzz")
    text, starts = _csv_records(rows, "\t" if kind == "tsv" else ",")
    path = tmp / f"products.{kind}"
    path.write_text(text, encoding="utf-8", errors="surrogateescape", newline="")
    report, counts, quarantined, rejects = _import(tmp, "products", path)
    assert report is not None  # a well-formed file with a header is never refused as a whole
    _consistent(report, counts, quarantined, rejects, text.count("\n"))
    f = report.files[0]
    rejected_lines = {q["line"] for q in quarantined}
    assert rejected_lines <= set(starts)
    # imported + quarantined + repeats == records
    assert f.products_read + f.rejected == len(rows)
    accepted = [r for r, line in zip(rows, starts) if line not in rejected_lines]
    assert len(accepted) == f.products_read
    repeats = f.products_read - f.products_added - f.products_updated
    assert counts["products"] + repeats == len(accepted) - f.products_updated


@FUZZ
@given(rows=st.lists(product, min_size=1, max_size=12), garbage=st.lists(st.binary(max_size=60), max_size=4))
def test_generated_json_lines_with_garbage_lines(tmp_path_factory, rows, garbage):
    tmp = tmp_path_factory.mktemp("fuzz")
    lines = [json.dumps(r, allow_nan=True, ensure_ascii=bool(i % 2)).encode() for i, r in enumerate(rows)]
    lines += [g.replace(b"\n", b" ") for g in garbage]  # not JSON, or JSON that is not an object, or bad UTF-8
    path = tmp / "products.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    report, counts, quarantined, rejects = _import(tmp, "products", path)
    assert report is not None
    _consistent(report, counts, quarantined, rejects, len(lines))
    f = report.files[0]
    non_blank = sum(1 for raw in lines if raw.strip(b" \t\r"))  # JSON's whitespace: a line of \x0b is garbage
    assert f.products_read + f.rejected == non_blank


@FUZZ
@given(rows=st.lists(product, min_size=1, max_size=10))
def test_generated_parquet(tmp_path_factory, rows):
    tmp = tmp_path_factory.mktemp("fuzz")
    table = pa.table({k: [str(r[k]) if k != "price" or isinstance(r[k], str) else r[k] for r in rows]
                      for k in rows[0]} | {"price": [str(r["price"]) for r in rows]})
    path = tmp / "products.parquet"
    pq.write_table(table, path)
    report, counts, quarantined, rejects = _import(tmp, "products", path)
    assert report is not None
    _consistent(report, counts, quarantined, rejects, len(rows))
    assert report.files[0].products_read + report.files[0].rejected == len(rows)


event = st.fixed_dictionaries({
    "shopper_id": ids, "session_id": st.one_of(ids, st.just("")),
    "timestamp": st.one_of(st.integers(min_value=-10**20, max_value=10**20), st.floats(allow_nan=True),
                           st.sampled_from(["1900-01-01T00:00:00", "3000-01-01", "2024-02-30", "yesterday", "",
                                            "1700000000", "1700000000000", "1.7e12"])),
    "type": st.sampled_from(["view", "pv", "buy", "purchase", "cart", "fav", "click", "search", "VIEW", "", "?"]),
    "product_id": ids, "query": nasty_text})


@FUZZ
@given(rows=st.lists(event, min_size=1, max_size=15), cut=st.integers(min_value=0, max_value=40))
def test_generated_event_logs_cut_mid_line(tmp_path_factory, rows, cut):
    tmp = tmp_path_factory.mktemp("fuzz")
    text, _ = _csv_records(rows)
    data = text.encode("utf-8", "surrogateescape")
    data = data[:max(len(data.split(b"\n", 1)[0]) + 1, len(data) - cut)]  # a file cut mid-line (header kept)
    path = tmp / "events.csv"
    path.write_bytes(data)
    report, counts, quarantined, rejects = _import(tmp, "events", path)
    assert report is not None
    _consistent(report, counts, quarantined, rejects, data.count(b"\n") + 1)
    f = report.files[0]
    assert f.events_added <= f.events_read
    assert f.events_read + f.rejected <= len(rows)  # each record is read, quarantined, or was cut away


@FUZZ
@given(data=st.binary(max_size=400), fmt=st.sampled_from(["products", "events", "taobao", "seed-csv",
                                                           "diginetica", "amazon-seq"]))
def test_random_bytes_in_any_format_never_crash(tmp_path_factory, data, fmt):
    tmp = tmp_path_factory.mktemp("fuzz")
    path = tmp / "input.csv"
    path.write_bytes(data)
    report, counts, quarantined, rejects = _import(tmp, fmt, path)
    if report is not None:
        _consistent(report, counts, quarantined, rejects, data.count(b"\n") + 1)


def test_duplicate_ids_with_different_content_keep_the_last(tmp_path):
    path = tmp_path / "products.csv"
    path.write_text("id,title,price\nP1,first,10\nP1,second,20\nP2,other,5\nP1,second,20\n", encoding="utf-8")
    report, counts, quarantined, _ = _import(tmp_path, "products", path)
    f = report.files[0]
    assert (f.products_read, f.rejected, counts["products"]) == (4, 0, 2)
    with Store.open(StoreConfig(home=tmp_path / "home")) as store:
        assert store.get_product("P1").title == "second"


@pytest.mark.parametrize("fmt, header", [("products", b"id,title,price\n"), ("taobao", b"")])
def test_line_numbers_count_newlines_only(tmp_path, fmt, header):
    """A raw "\\r" (inside quotes, or stray) neither shifts later line numbers nor splits a line in two."""
    good = b'P1,"two\rparts",10\n' if fmt == "products" else b"1,2,3,pv,1511544070\n"
    stray = b"P2,stray\rcarriage,10\n" if fmt == "products" else b"1,2,3,pv,1511544070\r1,2,3,pv,15115\n"
    bad = b"P3,bad price,abc\n" if fmt == "products" else b"1,2\n"
    path = tmp_path / "input.csv"
    path.write_bytes(header + good + stray + bad)
    report, _, quarantined, rejects = _import(tmp_path, fmt, path)
    first = 2 if header else 1
    assert [q["line"] for q in quarantined] == [first + 1, first + 2]  # as `grep -n` numbers them
    assert report.files[0].rejected == rejects == 2
    assert "unreadable CSV" in quarantined[0]["reason"]


def test_json_line_with_a_raw_carriage_return_is_one_line(tmp_path):
    path = tmp_path / "products.jsonl"
    path.write_bytes(b'{"id": "P1", "title": "a"}\n{"id": "P2",\r "title": "b"}\n\x0b\n{"id": "P3", "price": "x"}\n')
    report, counts, quarantined, _ = _import(tmp_path, "products", path)
    assert counts["products"] == 2
    assert [(q["line"], q["field"]) for q in quarantined] == [(3, "row"), (4, "price")]
