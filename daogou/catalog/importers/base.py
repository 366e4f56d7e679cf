"""What every importer shares: the record/reject shapes, the registry, and line-numbered table readers.

An importer parses one file into :class:`Record` (everything one source line says) or :class:`Reject`
(why that line cannot be used). The runner owns batching, transactions, checkpoints and quarantine, so a
format module is only parsing.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from daogou.catalog.models import Event, Product, Shopper
from daogou.errors import ImportFailed, ValidationError
from daogou.registry import Registry

JSON_SPACE = " \t\r"  # what JSON counts as whitespace between lines' values ("\n" ends the line)
RAW_LIMIT = 2000  # characters of a rejected line kept in quarantine
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass(slots=True)
class Record:
    """Everything one source line contributes. It is written whole or rejected whole."""

    line: int
    events: Sequence[Event] = ()
    products: Sequence[Product] = ()  # full product rows: insert or update
    stubs: Sequence[Product] = ()  # products only known from behaviour: insert if missing
    shoppers: Sequence[Shopper] = ()


@dataclass
class Reject:
    line: int
    field: str
    reason: str
    raw: str = ""

    @classmethod
    def of(cls, line: int, err: ValidationError, raw: str) -> "Reject":
        return cls(line, err.field, err.reason, raw[:RAW_LIMIT])


Parsed = Record | Reject


@dataclass(frozen=True)
class ImportOptions:
    """Options shared by all formats; ``extra`` holds format-specific ones (all JSON-serialisable)."""

    strict: bool = False
    mapping: dict[str, list[str]] = field(default_factory=dict)  # daogou field -> source column(s)
    table_format: str | None = None  # csv | jsonl | parquet; None: by file extension
    delimiter: str | None = None
    currency: str = ""
    language: str = ""
    event_type: str | None = None  # type given to interactions of formats that do not name one
    extra: dict[str, Any] = field(default_factory=dict)

    def identity(self) -> str:
        """Options that change what a file means: part of the import's identity for idempotency."""
        return json.dumps({"strict": self.strict, "mapping": self.mapping, "table_format": self.table_format,
                           "delimiter": self.delimiter, "currency": self.currency, "language": self.language,
                           "event_type": self.event_type, "extra": self.extra}, sort_keys=True)


class Importer(Protocol):
    """A format: which files a PATH stands for, and how to parse one of them."""

    name: str

    def files(self, path: Path, options: ImportOptions) -> list[Path]: ...

    def parse(self, path: Path, options: ImportOptions) -> Iterator[Parsed]: ...


IMPORTERS: Registry[Callable[[], Importer]] = Registry("import format", "daogou.importers", {
    "products": "daogou.catalog.importers.products:ProductsImporter",
    "events": "daogou.catalog.importers.events:EventsImporter",
    "seed-csv": "daogou.catalog.importers.seed_csv:SeedCsvImporter",
    "recbole": "daogou.catalog.importers.recbole:RecboleImporter",
    "amazon-seq": "daogou.catalog.importers.sequences:AmazonSeqImporter",
    "taobao": "daogou.catalog.importers.sequences:TaobaoImporter",
    "diginetica": "daogou.catalog.importers.sequences:DigineticaImporter",
})


def get_importer(name: str) -> Importer:
    """A new importer for format ``name``."""
    return IMPORTERS.get(name)()


def single_file(path: Path) -> list[Path]:
    if not path.is_file():
        raise ImportFailed(f"{path}: no such file")
    return [path]


class SingleFileImporter:
    """Base of formats whose PATH is one file."""

    name = ""

    def files(self, path: Path, options: ImportOptions) -> list[Path]:
        return single_file(path)


class TableImporter(SingleFileImporter):
    """Base of CSV/TSV/JSONL/Parquet formats: columns resolved once per header, one record per row."""

    fields: dict[str, tuple[str, ...]] = {}

    def record(self, row: "Row", plan: "ColumnPlan", options: ImportOptions) -> Record:
        raise NotImplementedError

    def parse(self, path: Path, options: ImportOptions) -> Iterator[Parsed]:
        planner = ColumnPlanner(options.mapping, self.fields)
        for row in read_table(path, options.table_format, options.delimiter):
            if isinstance(row, Reject):
                yield row
                continue
            try:
                yield self.record(row, planner.plan(row.names), options)
            except ValidationError as err:
                yield Reject.of(row.line, err, row.raw)


# ---------------------------------------------------------------- table readers

class Row:
    """One table row: column ``names``, its ``cells``, and the 1-based line it starts on."""

    __slots__ = ("line", "names", "cells", "_raw", "_sep")

    def __init__(self, line: int, names: Sequence[str], cells: list[Any], raw: str | None = None, sep: str = ","):
        self.line, self.names, self.cells, self._raw, self._sep = line, names, cells, raw, sep

    @property
    def values(self) -> dict[str, Any]:
        return dict(zip(self.names, self.cells))

    @property
    def raw(self) -> str:
        """The source text (rebuilt from the cells for CSV), for quarantine."""
        if self._raw is None:
            self._raw = self._sep.join("" if c is None else str(c) for c in self.cells)
        return self._raw[:RAW_LIMIT]


def table_format_of(path: Path, explicit: str | None) -> str:
    if explicit:
        if explicit not in ("csv", "tsv", "jsonl", "parquet"):
            raise ImportFailed(f"unknown table format {explicit!r}; expected csv, tsv, jsonl or parquet")
        return explicit
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if suffix == ".tsv":
        return "tsv"
    return "csv"


def read_table(path: Path, fmt: str | None = None, delimiter: str | None = None,
               header: list[str] | None = None) -> Iterator[Row | Reject]:
    """Rows of a CSV/TSV, JSON-lines or Parquet file as dicts, each with its 1-based line number."""
    kind = table_format_of(path, fmt)
    if kind == "parquet":
        yield from _read_parquet(path)
    elif kind == "jsonl":
        yield from _read_jsonl(path)
    else:
        yield from read_csv(path, delimiter or ("\t" if kind == "tsv" else ","), header)


def open_text(path: Path):
    """UTF-8 text (BOM tolerated); undecodable bytes survive as surrogates so the row can be rejected alone.
    Lines end at "\n" only (nothing translated): a lone "\r" stays inside its line, so every reader numbers
    lines as ``wc -l``, sed and grep do, and a CSV "\r" outside quotes makes its line one unreadable record."""
    try:
        return open(path, encoding="utf-8-sig", errors="surrogateescape", newline="\n")
    except OSError as exc:
        raise ImportFailed(f"{path}: cannot open: {exc}") from exc


class _PhysicalLines:
    """The file's lines as the csv module reads them, counting the "\n" line ends read so far."""

    def __init__(self, fh):
        self.fh, self.ends = fh, 0

    def __iter__(self) -> "_PhysicalLines":
        return self

    def __next__(self) -> str:
        line = next(self.fh)
        self.ends += line.endswith("\n")
        return line


def read_csv(path: Path, delimiter: str = ",", header: list[str] | None = None) -> Iterator[Row | Reject]:
    with open_text(path) as fh:
        lines = _PhysicalLines(fh)
        reader = csv.reader(lines, delimiter=delimiter)
        names = header
        while True:
            start = lines.ends + 1  # the record begins on the line after the last "\n" read
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                if names is None:
                    raise ImportFailed(f"{path}:{start}: unreadable header row: {exc}") from exc
                yield Reject(start, "row", f"unreadable CSV: {exc}")
                continue
            if names is None:
                names = [c.strip() for c in cells]
                if not any(names):
                    raise ImportFailed(f"{path}:{start}: empty header row")
                continue
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue  # blank line
            if len(cells) != len(names):
                yield Reject(start, "row", f"expected {len(names)} columns, found {len(cells)}",
                             delimiter.join(cells)[:RAW_LIMIT])
                continue
            yield Row(start, names, cells, None, delimiter)


def _read_jsonl(path: Path) -> Iterator[Row | Reject]:
    """JSON lines are separated by "\n" alone (a trailing "\r" is dropped): a raw "\r", U+2028 or \x85 inside a
    line is part of that line, as JSON-lines readers elsewhere see it, so line numbers match ``wc -l``."""
    with open_text(path) as fh:
        for n, line in enumerate(fh, start=1):
            text = line.removesuffix("\n").removesuffix("\r")
            if not text.strip(JSON_SPACE):  # blank: JSON's own whitespace only (a line of \x1c is garbage)
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                yield Reject(n, "row", f"invalid JSON: {exc.msg} at column {exc.colno}", text[:RAW_LIMIT])
                continue
            if not isinstance(value, dict):
                yield Reject(n, "row", "expected a JSON object", text[:RAW_LIMIT])
                continue
            yield Row(n, tuple(value), list(value.values()), text)


def _read_parquet(path: Path) -> Iterator[Row | Reject]:
    import pyarrow.parquet as pq
    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise ImportFailed(f"{path}: not a readable Parquet file: {exc}") from exc
    n = 0
    for batch in pf.iter_batches(batch_size=10_000):
        for values in batch.to_pylist():
            n += 1  # Parquet has no lines: the row number (1-based) stands in for one
            yield Row(n, tuple(values), list(values.values()),
                      json.dumps(values, ensure_ascii=False, default=str)[:RAW_LIMIT])


@dataclass(frozen=True)
class ColumnPlan:
    """For one set of column names: the column index/indices of each daogou field, and the leftover columns."""

    names: tuple[str, ...]
    columns: dict[str, tuple[int, ...]]  # field -> indices of its source columns
    first: dict[str, int | None]  # field -> index of its (first) column, None when absent
    extras: tuple[int, ...]  # indices of columns no field uses

    def get(self, cells: Sequence[Any], name: str) -> Any:
        idx = self.columns.get(name)
        if not idx:
            return None
        if len(idx) == 1:
            return cells[idx[0]]
        return [cells[i] for i in idx]


class ColumnPlanner:
    """Resolves ``--map`` and aliases once per distinct header (once per file for CSV)."""

    def __init__(self, mapping: dict[str, list[str]], fields: dict[str, tuple[str, ...]]):
        self.mapping, self.fields = mapping, fields
        self._plans: dict[tuple[str, ...], ColumnPlan] = {}
        self._last: tuple[Sequence[str], ColumnPlan] | None = None

    def plan(self, names: Sequence[str]) -> ColumnPlan:
        if self._last is not None and self._last[0] is names:
            return self._last[1]
        key = tuple(names)
        found = self._plans.get(key)
        if found is None:
            found = self._plans[key] = self._resolve(key)
        self._last = (names, found)
        return found

    def _resolve(self, names: tuple[str, ...]) -> ColumnPlan:
        where = {n: i for i, n in enumerate(names)}
        columns: dict[str, tuple[int, ...]] = {}
        for name, aliases in self.fields.items():
            mapped = self.mapping.get(name)
            if mapped:
                missing = [c for c in mapped if c not in where]
                if missing:
                    raise ImportFailed(f"--map {name}={','.join(mapped)}: no column {missing[0]!r} in "
                                       f"{', '.join(names)}")
                columns[name] = tuple(where[c] for c in mapped)
            else:
                hit = next((c for c in (name, *aliases) if c in where), None)
                if hit is not None:
                    columns[name] = (where[hit],)
        used = {i for idx in columns.values() for i in idx}
        first = {name: (columns[name][0] if name in columns else None) for name in self.fields}
        return ColumnPlan(names, columns, first, tuple(i for i in range(len(names)) if i not in used))
