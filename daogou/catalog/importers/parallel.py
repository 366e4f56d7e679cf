"""Parse in a second process while the first one writes: imports use both cores.

The parser process sends batches of parsed lines through a bounded queue (bounded memory); it stops by
itself if the importing process dies (e.g. killed with -9), so nothing is left running.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
from collections.abc import Iterator
from pathlib import Path

from daogou.catalog.importers.base import ImportOptions, Importer, Parsed, Record
from daogou.catalog.importers.prepare import Prepared, Preparer
from daogou.errors import DaogouError, ImportFailed

PARALLEL_MIN_BYTES = 1 << 20  # below this, a second process costs more than it saves
_QUEUE_BATCHES = 4


def batched(items: Iterator[Parsed], batch_events: int) -> Iterator[list[Parsed]]:
    """Group parsed lines so that a batch holds about ``batch_events`` events (lines are never split).

    The first batches are smaller (1/16, 1/8, … of the size) so the writer starts while the parser goes on.
    """
    batch: list[Parsed] = []
    n, size = 0, max(1, batch_events // 16)
    for item in items:
        batch.append(item)
        n += len(item.events) if isinstance(item, Record) else 1
        if n >= size:
            yield batch
            batch, n, size = [], 0, min(batch_events, size * 2)
    if batch:
        yield batch


def prepared_batches(importer: Importer, path: Path, options: ImportOptions, preparer: Preparer, batch_events: int,
                     parallel: bool | None = None) -> Iterator[Prepared]:
    """Batches of rows ready to write, made in a parser process when the file is big enough (or ``parallel=True``)."""
    if parallel is None:
        parallel = path.stat().st_size >= PARALLEL_MIN_BYTES and (os.cpu_count() or 1) > 1
    if "fork" not in mp.get_all_start_methods():
        parallel = False  # spawn would re-import the caller's main module; parse in-process instead
    if not parallel:
        for batch in batched(importer.parse(path, options), batch_events):
            yield preparer.prepare(batch)
        return
    ctx = mp.get_context("fork")  # the child only parses: it never touches the parent's database connection
    channel = ctx.Queue(maxsize=_QUEUE_BATCHES)
    proc = ctx.Process(target=_produce, args=(importer, path, options, preparer, batch_events, channel, os.getpid()),
                       daemon=True, name=f"daogou-parse-{path.name}")
    proc.start()
    try:
        while True:
            try:
                kind, payload = channel.get(timeout=5)
            except queue.Empty:
                if not proc.is_alive():
                    raise ImportFailed(f"{path}: parser process died (exit code {proc.exitcode})") from None
                continue
            if kind == "batch":
                yield payload
            elif kind == "error":
                raise ImportFailed(payload)
            else:
                return
    finally:
        if proc.is_alive():
            proc.terminate()
        proc.join(timeout=5)
        channel.close()


def _produce(importer: Importer, path: Path, options: ImportOptions, preparer: Preparer, batch_events: int,
             channel, parent: int) -> None:
    try:
        for batch in batched(importer.parse(path, options), batch_events):
            _send(channel, ("batch", preparer.prepare(batch)), parent)
        _send(channel, ("done", None), parent)
    except DaogouError as exc:
        _send(channel, ("error", str(exc)), parent)
    except Exception as exc:  # report anything else to the parent instead of dying silently
        _send(channel, ("error", f"{path}: parser failed: {type(exc).__name__}: {exc}"), parent)


def _send(channel, message, parent: int) -> None:
    while True:
        try:
            channel.put(message, timeout=1)
            return
        except queue.Full:
            if os.getppid() != parent:  # the importing process is gone: stop
                os._exit(0)
