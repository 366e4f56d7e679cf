"""Catalog commands: demo store, import, export, stats, split."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from daogou.cli.base import EXIT_OK, EXIT_REJECTS, Ctx, cli, command, emit

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
    from daogou.catalog.importers import IMPORTERS
    return IMPORTERS.names()


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

def stats_text(s: dict[str, Any]) -> str:
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
    emit(ctx, result, stats_text(result))
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
