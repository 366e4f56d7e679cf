"""Batch product copy kept in the store (table ``generated_texts``): resumable, one committed batch at a time.

A product is written again only when its content changed since its text was stored (or with ``force``); a run
that is interrupted loses at most the batch in flight.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from daogou.catalog.store import Store
from daogou.generate.grounding import Lexicon
from daogou.generate.prompts import PROMPT_VERSION
from daogou.generate.tasks import copy_task
from daogou.generate.writer import Result, Writer

TABLE = "generated_texts"
KEY = ("product_id", "task", "lang", "backend", "model", "prompt_version")


@dataclass(frozen=True)
class CopyJob:
    lang: str = "en"
    style: str = "short"
    tone: str = "neutral"
    batch: int = 16
    limit: int | None = None   # at most this many products written in this run
    force: bool = False        # write again even when stored text is up to date

    @property
    def task(self) -> str:
        return copy_task_name(self.style, self.tone)


def copy_task_name(style: str = "short", tone: str = "neutral") -> str:
    return f"copy.{style}.{tone}"


def copy_table(store: Store) -> sa.Table:
    return sa.Table(TABLE, sa.MetaData(), autoload_with=store.engine)


def catalog_lexicon(store: Store) -> Lexicon:
    """The brands and checked attribute values of every product in the store."""
    return Lexicon.from_products(store.iter_products())


def run_copy(store: Store, writer: Writer, ids: Sequence[str] | None, job: CopyJob = CopyJob(),
             progress: bool = False) -> dict:
    """Write copy for ``ids`` (None: every product); returns counts and a few samples."""
    from tqdm import tqdm
    started = time.perf_counter()
    table = copy_table(store)
    wanted = list(dict.fromkeys(ids)) if ids is not None else _all_ids(store)
    key = (job.task, job.lang, writer.backend.name, writer.backend.model_id, PROMPT_VERSION)
    counts = {"products": len(wanted), "written": 0, "up_to_date": 0, "missing": 0, "fallbacks": 0,
              "rejected_claims": 0}
    samples: list[dict] = []
    with tqdm(total=len(wanted), desc="copy", unit="product", disable=not progress) as bar:
        for block in _blocks(wanted, job.batch):
            if job.limit is not None and counts["written"] >= job.limit:
                break
            results, skipped, missing = _write_block(store, table, writer, block, key, job,
                                                     None if job.limit is None else job.limit - counts["written"])
            counts["written"] += len(results)
            counts["up_to_date"] += skipped
            counts["missing"] += missing
            counts["fallbacks"] += sum(r.fallback for r in results)
            counts["rejected_claims"] += sum(len(r.rejected) for r in results)
            samples += [{"id": r.product_ids[0], "text": r.text, "backend": r.backend}
                        for r in results][:3 - len(samples)]
            bar.update(len(block))
    return {**counts, "task": job.task, "lang": job.lang, "backend": key[2], "model": key[3],
            "prompt_version": PROMPT_VERSION, "stats": writer.stats.to_dict(), "samples": samples,
            "seconds": round(time.perf_counter() - started, 2)}


def _write_block(store: Store, table: sa.Table, writer: Writer, block: list[str], key: tuple, job: CopyJob,
                 room: int | None) -> tuple[list[Result], int, int]:
    products = store.get_products(block)
    stored = {} if job.force else _stored_hashes(store, table, key, block)
    todo = [p for p in products if stored.get(p.id) != p.content_hash()][:room]
    results = writer.run([copy_task(p, job.lang, job.style, job.tone) for p in todo])
    hashes = {p.id: p.content_hash() for p in todo}
    with store.transaction() as conn:
        for r in results:
            pid = r.product_ids[0]
            conn.execute(table.delete().where(*_match(table, key, pid)))
            conn.execute(table.insert().values(_row(r, key, pid, hashes[pid])))
    skipped = sum(1 for p in products if p.id in stored and stored[p.id] == p.content_hash())
    return results, skipped, len(block) - len(products)


def _row(r: Result, key: tuple, pid: str, content_hash: str) -> dict:
    info = {"attempts": r.attempts, "fallback": r.fallback, "final_model": r.model,
            "rejected": [v.to_dict() for v in r.rejected], "problems": list(r.problems),
            "first_token_s": r.first_token_s, "tokens": r.tokens, "seconds": r.seconds}
    return {**dict(zip(KEY, (pid, *key))), "content_hash": content_hash, "text": r.text,
            "final_backend": r.backend, "info": json.dumps(info, ensure_ascii=False),
            "created_ms": int(time.time() * 1000)}


def _match(table: sa.Table, key: tuple, pid: str) -> list:
    return [table.c.product_id == pid] + [table.c[name] == value for name, value in zip(KEY[1:], key)]


def _stored_hashes(store: Store, table: sa.Table, key: tuple, ids: list[str]) -> dict[str, str]:
    conds = [table.c[name] == value for name, value in zip(KEY[1:], key)]
    query = sa.select(table.c.product_id, table.c.content_hash).where(table.c.product_id.in_(ids), *conds)
    with store.engine.connect() as conn:
        return {row[0]: row[1] for row in conn.execute(query)}


def _all_ids(store: Store) -> list[str]:
    products = store.t["products"]
    with store.engine.connect() as conn:
        return [row[0] for row in conn.execute(sa.select(products.c.id).order_by(products.c.id))]


def _blocks(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def stored_copy(store: Store, product_id: str, lang: str = "en", task: str = "copy.short.neutral") -> list[dict]:
    """Every stored text of one product for ``task`` and ``lang``, newest first."""
    table = copy_table(store)
    query = (sa.select(table).where(table.c.product_id == product_id, table.c.task == task, table.c.lang == lang)
             .order_by(table.c.created_ms.desc()))
    with store.engine.connect() as conn:
        return [{**row._asdict(), "info": json.loads(row.info)} for row in conn.execute(query)]
