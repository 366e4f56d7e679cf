"""The ``daogou`` command. Thin: parses flags, calls the library, prints, and turns errors into messages.

Exit status: 0 clean; 3 imported with rejects (see the quarantine file); 1 failed; 2 usage error.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

import click

from daogou.errors import DaogouError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_REJECTS = 0, 1, 2, 3


class Ctx:
    def __init__(self, home: str | None, db: str | None, as_json: bool):
        self.home, self.db, self.as_json = home, db, as_json

    def store(self):
        from daogou.catalog.store import Store
        from daogou.config import resolve_store_config
        return Store.open(resolve_store_config(self.home, self.db))


def emit(ctx: Ctx, payload: dict[str, Any], human: str) -> None:
    click.echo(json.dumps(payload, ensure_ascii=False, indent=2) if ctx.as_json else human)


def command(fn):
    """Adds ``--json`` to a command and translates library errors into a message and exit status 1."""
    @click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")
    @click.pass_obj
    @functools.wraps(fn)
    def wrapper(obj: Ctx, as_json: bool, *args, **kwargs):
        obj.as_json = obj.as_json or as_json
        try:
            code = fn(obj, *args, **kwargs)
        except DaogouError as exc:
            _fail(obj, str(exc), type(exc).__name__)
        except KeyboardInterrupt:
            _fail(obj, "interrupted; run the same command again to resume", "Interrupted")
        except Exception as exc:  # a bug: say so plainly, never silently
            if os.environ.get("DAOGOU_DEBUG"):
                traceback.print_exc()
            _fail(obj, f"unexpected {type(exc).__name__}: {exc} (set DAOGOU_DEBUG=1 for a traceback)", "InternalError")
        sys.exit(code or EXIT_OK)
    return wrapper


def _fail(ctx: Ctx, message: str, kind: str) -> None:
    if ctx.as_json:
        click.echo(json.dumps({"error": kind, "message": message}, ensure_ascii=False))
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_FAILED)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", envvar="DAOGOU_HOME", default=None, metavar="DIR",
              help="daogou home directory (store, images, quarantine). Default ./.daogou or $DAOGOU_HOME.")
@click.option("--db", envvar="DAOGOU_DB_URL", default=None, metavar="URL",
              help="SQLAlchemy URL of the store instead of HOME/daogou.db, e.g. postgresql+psycopg://…")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")
@click.version_option(package_name="daogou")
@click.pass_context
def cli(ctx: click.Context, home: str | None, db: str | None, as_json: bool) -> None:
    """daogou (导购): a self-hosted AI shopping guide."""
    ctx.obj = Ctx(home, db, as_json)


# ---------------------------------------------------------------- demo

@cli.command()
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed: same seed, same store.")
@click.option("--products", "n_products", type=click.IntRange(24, 1_000_000), default=2000, show_default=True)
@click.option("--shoppers", "n_shoppers", type=click.IntRange(1, 1_000_000), default=1000, show_default=True)
@click.option("--force", is_flag=True, help="Rebuild even if this home already holds the demo store.")
@command
def demo(ctx: Ctx, seed: int, n_products: int, n_shoppers: int, force: bool) -> int:
    """Build the embedded demo store (bilingual catalog with images, shoppers with planted tastes)."""
    from daogou.catalog.demo import DemoConfig
    from daogou.catalog.demo_store import build_demo_store
    from daogou.catalog.stats import store_stats
    with ctx.store() as store:
        result = build_demo_store(store, DemoConfig(seed=seed, n_products=n_products, n_shoppers=n_shoppers),
                                  force=force)
        stats = store_stats(store)
    payload = {"demo": result, "stats": stats}
    verb = "built" if result["built"] else "already built (use --force to rebuild)"
    emit(ctx, payload, f"demo store {verb} in {store.config.home}\n" + _stats_text(stats))
    return EXIT_OK


# ---------------------------------------------------------------- import / export

def _parse_maps(maps: tuple[str, ...], mapping_file: str | None) -> dict[str, list[str]]:
    mapping: dict[str, list[str]] = {}
    if mapping_file:
        try:
            data = json.loads(Path(mapping_file).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise click.BadParameter(f"{mapping_file}: {exc}", param_hint="--mapping") from None
        if not isinstance(data, dict):
            raise click.BadParameter(f"{mapping_file}: expected a JSON object field -> column(s)", param_hint="--mapping")
        for key, cols in data.items():
            mapping[str(key)] = [cols] if isinstance(cols, str) else [str(c) for c in cols]
    for item in maps:
        field, sep, cols = item.partition("=")
        if not sep or not field.strip() or not cols.strip():
            raise click.BadParameter(f"{item!r}: expected FIELD=COLUMN[,COLUMN…]", param_hint="--map")
        mapping[field.strip()] = [c.strip() for c in cols.split(",") if c.strip()]
    return mapping


def _format_names() -> list[str]:
    from daogou.catalog.importers import importer_names
    return importer_names()


@cli.command("import")
@click.argument("fmt", metavar="FORMAT", type=click.Choice(_format_names()))
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--strict", is_flag=True, help="Reject events that name a product the store does not know.")
@click.option("--map", "maps", multiple=True, metavar="FIELD=COL[,COL]", help="Column for a field (repeatable).")
@click.option("--mapping", "mapping_file", type=click.Path(exists=True, dir_okay=False), help="JSON mapping file.")
@click.option("--table-format", type=click.Choice(["csv", "tsv", "jsonl", "parquet"]), help="Default: by extension.")
@click.option("--delimiter", help="CSV delimiter (default ',').")
@click.option("--currency", default="", help="Currency of prices that carry no symbol, e.g. GBP.")
@click.option("--language", default="", help="Language of product texts, e.g. en or zh.")
@click.option("--type", "event_type", type=click.Choice(["view", "click", "cart", "fav", "purchase"]),
              help="Event type for formats whose rows do not say (recbole, amazon-seq, diginetica).")
@click.option("--layout", type=click.Choice(["seq", "pairs"]), help="amazon-seq: one line per user or per event.")
@click.option("--attributes", type=click.Path(exists=True, dir_okay=False), help="amazon-seq: item2attributes.json.")
@click.option("--start-time", help="seed-csv: time of line 0 (ISO 8601); default 2024-01-01T00:00:00Z.")
@click.option("--force", is_flag=True, help="Process the file again even if it was imported before.")
@command
def import_(ctx: Ctx, fmt: str, path: Path, strict: bool, maps: tuple[str, ...], mapping_file: str | None,
            table_format: str | None, delimiter: str | None, currency: str, language: str, event_type: str | None,
            layout: str | None, attributes: str | None, start_time: str | None, force: bool) -> int:
    """Import PATH in FORMAT (bad rows are quarantined, the rest imported; re-imports add nothing)."""
    from daogou.catalog.importers import ImportOptions, run_import
    extra = {k: v for k, v in (("layout", layout), ("attributes", attributes and str(Path(attributes).resolve())),
                               ("start_time", start_time)) if v}
    options = ImportOptions(strict=strict, mapping=_parse_maps(maps, mapping_file), table_format=table_format,
                            delimiter=delimiter, currency=currency.upper(), language=language,
                            event_type=event_type, extra=extra)
    with ctx.store() as store:
        report = run_import(store, fmt, path, options, force=force, progress=not ctx.as_json)
        quarantine = store.config.quarantine_path
    payload = report.to_dict() | {"quarantine": str(quarantine)}
    emit(ctx, payload, _import_text(payload))
    return EXIT_REJECTS if report.status == "rejects" else EXIT_OK


def _import_text(payload: dict[str, Any]) -> str:
    t = payload["totals"]
    lines = [f"{payload['format']}: {payload['status']} — {t['events_added']:,} events, {t['products_added']:,} "
             f"products (+{t['products_updated']:,} updated), {t['shoppers_added']:,} shoppers added; "
             f"{t['rejected']:,} rejected"]
    for f in payload["files"]:
        note = " (already imported: nothing added)" if f["status"] == "skipped" else ""
        lines.append(f"  {f['file']}: {f['lines']:,} lines in {f['seconds']}s{note}")
        lines += [f"  {r['where']}: {r['field']}: {r['reason']}" for r in f["rejects"]]
    if t["rejected"]:
        lines.append(f"rejected rows were appended to {payload['quarantine']}")
    return "\n".join(lines)


@cli.group()
def export() -> None:
    """Write the store in other formats."""


@export.command("recbole")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", help="Dataset name (file stem); default: the folder's name.")
@command
def export_recbole_cmd(ctx: Ctx, folder: Path, name: str | None) -> int:
    """Write RecBole atomic files (.inter, .item, .user) into FOLDER."""
    from daogou.catalog.export import export_recbole
    with ctx.store() as store:
        result = export_recbole(store, folder, name)
    c = result["counts"]
    emit(ctx, result, f"wrote {c['inter']:,} interactions, {c['item']:,} items, {c['user']:,} users to {folder}")
    return EXIT_OK


# ---------------------------------------------------------------- stats / split

def _stats_text(s: dict[str, Any]) -> str:
    e = s["events_per_shopper"]
    by_type = ", ".join(f"{k} {v:,}" for k, v in s["events_by_type"].items()) or "none"
    return "\n".join([
        f"products   {s['products']:,} ({s['category_paths']:,} category paths, {s['brands']:,} brands; "
        f"languages {s['product_languages']})",
        f"shoppers   {s['shoppers']:,} ({s['active_shoppers']:,} active)",
        f"events     {s['events']:,} in {s['sessions']:,} sessions: {by_type}",
        f"sparsity   {s['sparsity']}",
        f"per shopper: mean {e['mean']}, p50 {e['p50']}, p90 {e['p90']}, p99 {e['p99']}, max {e['max']}",
        f"time       {s['first_event']} .. {s['last_event']}",
    ])


@cli.command()
@command
def stats(ctx: Ctx) -> int:
    """Counts, event mix, sparsity and sequence-length percentiles of the store."""
    from daogou.catalog.stats import store_stats
    with ctx.store() as store:
        result = store_stats(store)
    emit(ctx, result, _stats_text(result))
    return EXIT_OK


@cli.command()
@click.option("--kind", type=click.Choice(["loo", "time"]), default="loo", show_default=True)
@click.option("--targets", help="Comma-separated target event types (default: purchases if enough, else all).")
@command
def split(ctx: Ctx, kind: str, targets: str | None) -> int:
    """Show the evaluation split models will use (leave-one-out or time-based)."""
    from daogou.catalog.splits import leave_one_out, time_split
    with ctx.store() as store:
        frame = store.events_frame()
    chosen = tuple(t.strip() for t in targets.split(",")) if targets else None
    result = (leave_one_out(frame, chosen) if kind == "loo" else time_split(frame, targets=chosen)).summary()
    emit(ctx, result, "  ".join(f"{k}={v}" for k, v in result.items()))
    return EXIT_OK


# ---------------------------------------------------------------- index / search

def _encoder_option(fn):
    return click.option("--encoder", default="e5-multilingual", show_default=True,
                        help="Text encoder: e5-multilingual (中文 + English), minilm (English), hashing, "
                             "or a saved encoder folder.")(fn)


@cli.command()
@_encoder_option
@click.option("--rebuild", is_flag=True, help="Rebuild even if the saved index matches the catalog.")
@command
def index(ctx: Ctx, encoder: str, rebuild: bool) -> int:
    """Build or refresh the search index (only new or changed products are encoded)."""
    from daogou.search.engine import SearchConfig
    from daogou.search.index_store import open_searcher
    with ctx.store() as store:
        _, info = open_searcher(store, SearchConfig(encoder=encoder), rebuild=rebuild, progress=not ctx.as_json)
    verb = "up to date" if info["loaded"] else "built"
    emit(ctx, info, f"index {verb}: {info['products']:,} products, {info['encoder']} + BM25, "
                    f"{info['dense_index']} dense index, {info['seconds']}s → {info['folder']}")
    return EXIT_OK


@cli.command()
@click.argument("query")
@click.option("--k", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option("--filter", "filters", multiple=True, metavar="SPEC",
              help="category=Shoes > Running, brand=X, brand!=X, price<=100, price>=10, color=red, in_stock=true")
@click.option("--mode", type=click.Choice(["hybrid", "lexical", "dense"]), default="hybrid", show_default=True)
@_encoder_option
@command
def search(ctx: Ctx, query: str, k: int, filters: tuple[str, ...], mode: str, encoder: str) -> int:
    """Search the catalog in English or 中文, e.g. "red running shoes under ¥300" or "500元以内的蓝牙耳机"."""
    from daogou.search.engine import SearchConfig
    from daogou.search.filters import Filters
    from daogou.search.index_store import open_searcher
    with ctx.store() as store:
        searcher, _ = open_searcher(store, SearchConfig(encoder=encoder), progress=not ctx.as_json)
        results = searcher.search(query, k=k, filters=Filters.parse(filters), mode=mode)
    payload = results.to_dict()
    lines = [f"{len(results.hits)} of {results.total:,} matching products ({mode})"
             + (" — query constraints relaxed: nothing matched them" if results.relaxed else "")]
    if results.parsed and results.parsed.matched:
        lines.append("understood: " + "; ".join(results.parsed.matched))
    for n, hit in enumerate(payload["hits"], start=1):
        price = "" if hit["price"] is None else f"{hit['price']:g} {hit['currency']}"
        lines.append(f"{n:>3}. {hit['id']}  {hit['title'][:70]}  [{hit['brand']}] {price}  ({hit['category']})")
    emit(ctx, payload, "\n".join(lines))
    return EXIT_OK


def main() -> None:
    try:
        cli.main(prog_name="daogou", standalone_mode=True)
    except SystemExit:
        raise


if __name__ == "__main__":
    main()
