"""Runs an importer against the store: batches, one transaction per batch with its checkpoint, quarantine.

Guarantees:
- a bad line becomes a reject (file:line, field, reason) in the quarantine file and the ``rejects`` table;
  every other line is imported;
- importing the same file again adds nothing (the ledger knows it, and events carry content uids);
- a process killed at any point leaves the store consistent, and running the import again completes it.
"""

from __future__ import annotations

import gc
import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from tqdm import tqdm

from daogou.catalog.importers.base import ImportOptions, Importer, Reject, get_importer
from daogou.catalog.importers.parallel import prepared_batches
from daogou.catalog.importers.prepare import Identifier, Prepared, Preparer
from daogou.catalog.models import Shopper
from daogou.catalog.store import Store
from daogou.errors import ImportFailed



@dataclass
class FileReport:
    file: str
    format: str
    import_id: int
    status: str  # clean | rejects | skipped
    lines: int = 0
    products_added: int = 0
    products_updated: int = 0
    shoppers_added: int = 0
    events_added: int = 0
    rejected: int = 0
    events_read: int = 0
    products_read: int = 0  # product rows accepted from the file (a repeated id counts each time)
    shoppers_seen: int = 0
    products_seen: int = 0
    seconds: float = 0.0
    resumed_from_line: int = 0
    rejects: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ImportReport:
    format: str
    files: list[FileReport]

    @property
    def status(self) -> str:
        if any(f.status == "rejects" for f in self.files):
            return "rejects"
        return "clean" if any(f.status == "clean" for f in self.files) else "skipped"

    def total(self, name: str) -> int:
        return sum(getattr(f, name) for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        keys = ("lines", "products_added", "products_updated", "shoppers_added", "events_added", "rejected",
                "events_read", "products_read")
        return {"format": self.format, "status": self.status, "totals": {k: self.total(k) for k in keys},
                "files": [asdict(f) for f in self.files]}


def file_digest(path: Path) -> tuple[str, int]:
    """(sha256, number of lines) in one pass."""
    h, lines = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
            lines += chunk.count(b"\n")
    return h.hexdigest(), lines


def run_import(store: Store, fmt: str, path: str | Path, options: ImportOptions | None = None, *,
               force: bool = False, batch_events: int = 20_000, progress: bool | None = None,
               max_listed_rejects: int = 50, parallel: bool | None = None) -> ImportReport:
    """Import ``path`` (a file, or for some formats a folder) in format ``fmt`` into ``store``."""
    options = options or ImportOptions()
    importer = get_importer(fmt)
    source = Path(path)
    if not source.exists():
        raise ImportFailed(f"{source}: no such file or directory")
    reports = []
    gc_was_enabled = gc.isenabled()
    gc.disable()  # millions of short-lived row objects: cyclic GC passes only cost time here
    try:
        for file in importer.files(source, options):
            job = _FileJob(store, fmt, file, options, importer, batch_events, progress, max_listed_rejects,
                           parallel)
            reports.append(job.run(force))
    finally:
        if gc_was_enabled:
            gc.enable()
    return ImportReport(fmt, reports)


class _FileJob:
    def __init__(self, store: Store, fmt: str, path: Path, options: ImportOptions, importer: Importer,
                 batch_events: int, progress: bool | None, max_listed: int, parallel: bool | None):
        self.store, self.fmt, self.path, self.options, self.importer = store, fmt, path, options, importer
        self.batch_events, self.progress, self.max_listed, self.parallel = batch_events, progress, max_listed, parallel

    # ---------------------------------------------------------------- ledger
    def _ledger_entry(self, sha: str) -> Any:
        imports = self.store.t["imports"]
        with self.store.engine.connect() as conn:
            return conn.execute(sa.select(imports).where(
                imports.c.format == self.fmt, imports.c.sha256 == sha,
                imports.c.options == self.options.identity())).first()

    def _open_ledger(self, sha: str, force: bool) -> tuple[int, int, dict[str, int], bool]:
        """(import id, lines already committed, counts so far, already complete)."""
        imports = self.store.t["imports"]
        row = self._ledger_entry(sha)
        now = int(time.time() * 1000)
        if row is None:
            with self.store.transaction() as conn:
                conn.execute(imports.insert().values(
                    format=self.fmt, path=str(self.path), sha256=sha, options=self.options.identity(),
                    status="running", lines_done=0, counts="{}", started_ms=now))
            row = self._ledger_entry(sha)
            return row.id, 0, {}, False
        if row.status == "done" and not force:
            return row.id, row.lines_done, json.loads(row.counts), True
        with self.store.transaction() as conn:
            conn.execute(imports.update().where(imports.c.id == row.id).values(status="running"))
        resume = 0 if row.status == "done" else row.lines_done
        return row.id, resume, ({} if resume == 0 else json.loads(row.counts)), False

    # ---------------------------------------------------------------- main loop
    def run(self, force: bool) -> FileReport:
        started = time.perf_counter()
        sha, total_lines = file_digest(self.path)
        import_id, resume, counts, complete = self._open_ledger(sha, force)
        report = FileReport(str(self.path), self.fmt, import_id, "skipped", resumed_from_line=resume)
        if complete:
            report.lines = counts.get("lines", 0)
            report.rejected = counts.get("rejected", 0)
            report.seconds = round(time.perf_counter() - started, 3)
            return report
        for key in ("products_added", "products_updated", "shoppers_added", "events_added", "rejected",
                    "events_read", "products_read"):
            setattr(report, key, counts.get(key, 0))
        bar = tqdm(total=total_lines, initial=resume, unit="line", desc=f"import {self.path.name}",
                   disable=self.progress is False or None, leave=False)
        preparer = Preparer(self.options.strict, int(time.time() * 1000), resume_after=resume)
        self.identifier = Identifier()
        try:
            last_line = resume
            for prepared in prepared_batches(self.importer, self.path, self.options, preparer, self.batch_events,
                                             self.parallel):
                last_line = max(last_line, prepared.last_line)
                self._commit(import_id, prepared, report, last_line)
                bar.update(max(0, last_line - bar.n))
            self._commit(import_id, Prepared(last_line), report, max(last_line, total_lines, resume), final=True)
            bar.update(max(0, total_lines - bar.n))
        except BaseException:
            self._mark(import_id, "failed" if resume == 0 and report.lines == 0 else "running")
            raise
        finally:
            bar.close()
        report.status = "rejects" if report.rejected else "clean"
        report.seconds = round(time.perf_counter() - started, 3)
        return report

    def _mark(self, import_id: int, status: str) -> None:
        imports = self.store.t["imports"]
        with self.store.transaction() as conn:
            conn.execute(imports.update().where(imports.c.id == import_id).values(status=status))

    # ---------------------------------------------------------------- one batch = one transaction
    def _commit(self, import_id: int, batch: Prepared, report: FileReport, last_line: int,
                final: bool = False) -> None:
        with self.store.transaction() as conn:
            rejects = list(batch.rejects)
            if self.options.strict:
                rejects += self._drop_unknown(conn, batch)
                rejects.sort(key=lambda r: r.line)
            self._write_rows(conn, import_id, batch, report)
            new_rejects = self._write_rejects(conn, import_id, rejects)
            report.rejected += len(rejects)  # quarantine gets only the new ones; the status counts them all
            report.lines = last_line
            counts = {k: getattr(report, k) for k in ("lines", "products_added", "products_updated",
                                                      "shoppers_added", "events_added", "rejected", "events_read",
                                                      "products_read")}
            imports = self.store.t["imports"]
            values: dict[str, Any] = {"lines_done": last_line, "counts": json.dumps(counts)}
            if final:
                values.update(status="done", finished_ms=int(time.time() * 1000))
            conn.execute(imports.update().where(imports.c.id == import_id).values(**values))
        self._quarantine(import_id, new_rejects, report)
        for r in rejects[:max(0, self.max_listed - len(report.rejects))]:
            report.rejects.append({"where": f"{self.path}:{r.line}", "field": r.field, "reason": _printable(r.reason)})

    def _drop_unknown(self, conn: Connection, batch: Prepared) -> list[Reject]:
        """Strict mode: a line whose event names a product neither stored nor offered in this batch is rejected."""
        offered = {p.id for _, p in batch.products} | {row[0] for _, row in batch.stubs}
        wanted = sorted({e[6] for e in batch.events if e[6] is not None} - offered)
        table = self.store.t["products"]
        known = set(self.store.existing_keys(conn, table.c.id, wanted)) | offered
        bad: dict[int, tuple] = {}
        for e in batch.events:
            if e[6] is not None and e[6] not in known and e[0] not in bad:
                bad[e[0]] = e
        if bad:
            batch.events = [e for e in batch.events if e[0] not in bad]
        return [Reject(line, "product_id", f"unknown product {e[6]!r} (strict mode)",
                       ",".join(str(v) for v in e[1:8] if v is not None)) for line, e in bad.items()]

    def _write_rows(self, conn: Connection, import_id: int, batch: Prepared, report: FileReport) -> None:
        store = self.store
        added, updated = store.write_products(conn, [p for _, p in batch.products], overwrite=True)
        stub_added = store.insert_product_rows(conn, [row for _, row in batch.stubs])
        report.products_added += added + stub_added
        report.products_updated += updated
        with_attrs = [Shopper(sid, json.loads(attrs)) for _, sid, attrs in batch.shoppers if attrs != "{}"]
        report.shoppers_added += store.write_shoppers(conn, with_attrs, overwrite=True)
        report.shoppers_added += store.insert_shopper_rows(
            conn, [(sid, attrs) for _, sid, attrs in batch.shoppers if attrs == "{}"])
        report.events_added += store.insert_event_rows(conn, self.identifier.rows(batch.events, import_id))
        report.events_read += len(batch.events)
        report.products_read += len(batch.products)
        report.shoppers_seen, report.products_seen = batch.shoppers_seen or report.shoppers_seen, \
            batch.products_seen or report.products_seen

    def _write_rejects(self, conn: Connection, import_id: int, rejects: list[Reject]) -> list[Reject]:
        """Record rejects not recorded before (a resumed run can meet a line twice); returns the new ones."""
        if not rejects:
            return []
        table = self.store.t["rejects"]
        lines = sorted({r.line for r in rejects})
        known: set[int] = set()
        for i in range(0, len(lines), 500):
            known.update(row[0] for row in conn.execute(sa.select(table.c.line).where(
                table.c.import_id == import_id, table.c.line.in_(lines[i:i + 500]))))
        new: dict[int, Reject] = {}
        for r in rejects:
            if r.line not in known and r.line not in new:
                new[r.line] = Reject(r.line, _printable(r.field), _printable(r.reason), _printable(r.raw))
        if new:
            self.store.insert_ignore(conn, "rejects", ("import_id", "line", "file", "field", "reason", "raw"),
                                     [(import_id, r.line, str(self.path), r.field, r.reason, r.raw)
                                      for r in new.values()])
        return list(new.values())

    def _quarantine(self, import_id: int, rejects: list[Reject], report: FileReport) -> None:
        if not rejects:
            return
        qpath = self.store.config.quarantine_path
        with open(qpath, "a", encoding="utf-8", errors="backslashreplace") as fh:
            for r in rejects:
                entry = {"import_id": import_id, "format": self.fmt, "file": str(self.path), "line": r.line,
                         "field": r.field, "reason": r.reason, "raw": r.raw}
                fh.write(json.dumps(entry, ensure_ascii=False) + "\n")


def _printable(text: str) -> str:
    """Undecodable bytes (kept as surrogates while parsing) shown as \\xNN so the text can be stored."""
    try:
        data = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        data = text.encode("utf-8", "backslashreplace")
    return data.decode("utf-8", "backslashreplace")
