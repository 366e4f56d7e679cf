"""The README's benchmark tables, rendered from the JSON the benchmarks wrote under ``bench/results/``.

    python bench/report.py            # rewrite every marked section of README.md
    python bench/report.py --check    # exit 1 (and show which) when README.md differs from the files

A section is marked in README.md as ``<!-- bench:NAME -->`` … ``<!-- /bench:NAME -->``; everything between the
marks is this script's. Each section names its file and the machine, load and commit it was measured on. A
benchmark that has not written its file yet renders as "not measured", never as a typed number.
"""

from __future__ import annotations

import argparse
import difflib
import importlib.util
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, ROOT  # noqa: E402

README = ROOT / "README.md"
MARK = re.compile(r"(<!-- bench:(?P<name>[a-z0-9-]+) -->\n)(?P<body>.*?)(<!-- /bench:(?P=name) -->)", re.S)


def _bench(module: str):
    """A benchmark script's own module (its table function), loaded by path."""
    spec = importlib.util.spec_from_file_location(f"bench_{module}", Path(__file__).with_name(f"{module}.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _load(name: str) -> dict | None:
    path = RESULTS / name
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _source(name: str, data: dict, command: str | None = None) -> str:
    meta = data.get("meta") or data.get("machine") or {}
    if isinstance(meta, str):
        meta = {"machine": meta}
    facts = []
    cores = meta.get("cores") or meta.get("cpus") or data.get("cpus")
    facts.append(f"{cores} cores" if cores else meta.get("machine", ""))
    load = meta.get("load_avg") or meta.get("load_before") or meta.get("load_avg_before")
    if load:
        facts.append(f"load average {round(load[0], 2)}")
    commit = meta.get("commit") or data.get("commit")
    if commit:
        commit = str(commit)
        facts.append(f"commit {commit.split('+')[0][:7]}" + (" with uncommitted changes" if "+" in commit else ""))
    if meta.get("date"):
        facts.append(meta["date"])
    command = command or meta.get("command") or data.get("command")
    said = f"`{command}` → " if command else ""
    facts = [f for f in facts if f]
    return f"<sub>{said}`bench/results/{name}`" + (f" ({', '.join(facts)})" if facts else "") + "</sub>"


def _missing(name: str, command: str) -> str:
    return f"Not measured at this commit: `{command}` writes `bench/results/{name}` and this table."


def _mb(v: float | None) -> str:
    if v is None:
        return "–"
    return f"{v / 1024:.1f} GB" if v >= 1024 else f"{v:.0f} MB"


def _n(v, digits: int = 1) -> str:
    if v is None:
        return "–"
    if isinstance(v, int) or (isinstance(v, float) and v.is_integer() and abs(v) >= 100):
        return f"{int(v):,}"
    return f"{v:,.{digits}f}"


# ---------------------------------------------------------------- sections

def first_start() -> str:
    d = _load("first_start.json")
    if d is None:
        return _missing("first_start.json", "python bench/first_start.py")
    f, s = d["first"], d["second"]
    return (f"Measured by `python bench/first_start.py` (a fresh `git clone`, then `make demo` until the page "
            f"answers): the first `make demo` serves after {f['seconds']:.0f} s ({f['install_s']:.0f} s install, "
            f"{f['build_and_start_s']:.0f} s to build the store, index and recommender and start), a second one "
            f"after {s['seconds']:.0f} s (goals {d['goals']['first_s']} s / {d['goals']['second_s']} s).\n"
            + _source("first_start.json", d))


def understanding() -> str:
    d = _load("understanding.json")
    if d is None:
        return _missing("understanding.json", "python bench/understanding.py")
    out = _bench("understanding").table_from(d) + "\n\n" + _source("understanding.json", d,
                                                                       "python bench/understanding.py")
    return out + _unseen()


_ALARM = "said that nothing matched"


def _unseen() -> str:
    """"Does the store sell it?" on sets written apart from the code: the held-out files' first run (before the rule
    was revised on them) and the sealed set, run once."""
    runs = [("held-out files, first run", "understanding_heldout_first.json", "present-heldout", "-abh-"),
            ("sealed set, run once", "understanding_sealed.json", "present", "-sab-")]
    rows = []
    for label, name, present, absent_ids in runs:
        d = _load(name)
        if d is None:
            continue
        lib = d["paths"]["library"]
        failures = lib["failures"]
        missed = sum(1 for r in failures if absent_ids in r["id"])
        total = missed + _passed(lib, absent_ids)
        alarms = sum(1 for r in failures if present in r["tags"] and any(_ALARM in e for e in r["errors"]))
        rows.append(f"| {label} | {total - missed} of {total} ({100 * (total - missed) / total:.0f}%) | "
                    f"{alarms} of {lib['by_tag'][present]['n']} | `bench/results/{name}` |")
    if not rows:
        return ""
    return ("\n\nOn sets written apart from the code (`bench/understanding/FORMAT.md`): needs the store does not meet "
            "answered \"not sold\", and in-catalog needs wrapped in chit-chat wrongly answered \"not sold\":\n\n"
            "| set | \"not sold\", rightly | \"not sold\", wrongly | file |\n|---|---:|---:|---|\n" + "\n".join(rows))


def _passed(lib: dict, id_part: str) -> int:
    """Items of the set whose id has ``id_part`` that passed: the set's size from its file, less its failures."""
    path = ROOT / "bench" / ("understanding_sealed" if id_part == "-sab-" else "understanding")
    ids = [json.loads(line)["id"] for f in sorted(path.glob("utterances_*.jsonl"))
           for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
    failed = {r["id"] for r in lib["failures"]}
    return sum(1 for i in ids if id_part in i and i not in failed)


def named_kind() -> str:
    d = _load("named_kind.json")
    if d is None:
        return _missing("named_kind.json", "python bench/named_kind.py")
    lines = ["| shoppers | chats | named kind in the first 3 cards | English | Chinese | planted favourite brand "
             "(first 3 in its category) |", "|---|---:|---:|---:|---:|---:|"]
    for label, t in d["table"].items():
        taste = "–" if t["taste@3"] is None else f"{100 * t['taste@3']:.1f}% ({t['turns_with_a_favourite']} chats)"
        lines.append(f"| {label} | {t['turns']} | {100 * t['named_kind@3']:.1f}% | {100 * t['named_kind@3_en']:.1f}% | "
                     f"{100 * t['named_kind@3_zh']:.1f}% | {taste} |")
    return "\n".join(lines) + "\n\n" + _source("named_kind.json", d, "python bench/named_kind.py")


def replies() -> str:
    d = _load("replies.json")
    if d is None:
        return _missing("replies.json", "python bench/replies.py")
    return _bench("replies").table(d["backends"]) + "\n\n" + _source("replies.json", d, "python bench/replies.py")


def generate() -> str:
    d = _load("generate.json")
    if d is None:
        return _missing("generate.json", "python bench/generate.py")
    return _bench("generate").table(d["rows"]) + "\n\n" + _source("generate.json", d, "python bench/generate.py")


def multimodal() -> str:
    d = _load("multimodal.json")
    if d is None:
        return _missing("multimodal.json", "python bench/multimodal.py")
    out = []
    if "fashion" in d:
        f = d["fashion"]
        out += [f"Fashion photos: {f['products']} products, {f['article_types']} article types, {f['colours']} "
                f"colours (majority class {f['majority']['article type']:.3f} / {f['majority']['colour']:.3f}).", "",
                "| features | article type acc. | colour acc. | text → image Recall@10 (held-out) |",
                "|---|---|---|---|"]
        for name, r in f["rows"].items():
            rec = r.get("text→image recall@10")
            out.append(f"| {name} | {r['article type']:.3f} | {r['colour']:.3f} | "
                       f"{'–' if rec is None else f'{rec:.3f}'} |")
        out += [f"| random | | | {f['random text→image recall@10']:.3f} |", ""]
    if "demo" in d:
        s = d["demo"]["search"]
        out += [f"Demo store search ({d['demo']['encoder']}): {s['hidden_colour_queries']} queries for a colour that "
                f"only the picture shows, {s['ordinary_queries']} ordinary queries.", "",
                "| search | hidden-colour nDCG@10 | hidden only nDCG@10 | colourless pool nDCG@10 | ordinary nDCG@10 |",
                "|---|---|---|---|---|"]
        for name, r in s["rows"].items():
            out.append(f"| {name} | {r['hidden-colour nDCG@10']:.3f} | {r['hidden-only nDCG@10']:.3f} | "
                       f"{r['colourless-pool nDCG@10']:.3f} | {r['ordinary nDCG@10']:.3f} |")
        out.append("| gated | n/a (search has no labels to train a gate on) | | | |")
        if "rec" in d["demo"]:
            out += ["", "| daogou-rec on the demo store | test NDCG@10 | test HR@10 | valid NDCG@10 | epochs |",
                    "|---|---|---|---|---|"]
            for name, r in d["demo"]["rec"].items():
                out.append(f"| {name} | {r['test NDCG@10']:.4f} | {r['test HR@10']:.4f} | "
                           f"{r['valid NDCG@10']:.4f} | {r['epochs']} |")
        out.append("")
    return "\n".join(out) + "\n" + _source("multimodal.json", d, "python bench/multimodal.py")


def rec(dataset: str) -> Callable[[], str]:
    def render() -> str:
        name = f"rec_{dataset}.json"
        d = _load(name)
        if d is None:
            return _missing(name, f"python bench/rec.py {dataset}")
        lines = [f"{d['dataset']}" + (f", training budget {d['budget_s']:.0f} s a model" if d.get("budget_s")
                                       else "") + ":", "",
                 "| model | NDCG@10 | HR@10 | NDCG@20 | MRR | NDCG@10 / HR@10, history masked | cold NDCG@10 | "
                 "cold HR@20 | train s | CPU s | epochs | peak RSS |",
                 "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        seeded = any(r.get("seeds") for r in d["rows"])
        for r in d["rows"] + d.get("published", []):
            cold = r.get("cold") if (r.get("cold") or {}).get("cases") else {}
            masked = r.get("masked") or {}
            f4 = lambda v: "" if v is None else f"{v:.4f}"  # noqa: E731
            both = f"{f4(masked['ndcg@10'])} / {f4(masked['hr@10'])}" if masked else "–"
            ndcg = f4(r.get('ndcg@10'))
            if r.get("seeds"):  # the mean over seeds, then the range
                each = [x["ndcg@10"] for x in r["seeds"]]
                ndcg += f" ({min(each):.4f}–{max(each):.4f}, {len(each)} seeds)"
            lines.append(f"| {r['model']} | {ndcg} | {f4(r.get('hr@10'))} | {f4(r.get('ndcg@20'))} | "
                         f"{f4(r.get('mrr'))} | {both} | {f4(cold.get('ndcg@10')) or '–'} | "
                         f"{f4(cold.get('hr@20')) or '–'} | {_n(r.get('train_s'), 0) if 'train_s' in r else ''}"
                         f" | {_n(r.get('train_cpu_s'), 0) if 'train_cpu_s' in r else ''} | "
                         f"{r.get('epochs', '') if r.get('epochs') is not None else '–'} | "
                         f"{_mb(r.get('peak_rss_mb')) if 'peak_rss_mb' in r else ''} |")
        lines += ["", "Full ranking over the whole catalog. The first columns mask nothing (RecBole's protocol); "
                  "\"history masked\" leaves the items already in the shopper's history out of the ranking "
                  "(BSARec's protocol, `daogou evaluate --mask-history`)."]
        if seeded:
            lines += ["", "Rows trained with several seeds show the mean of each metric (NDCG@10: the mean, then the "
                          "lowest and highest seed); their times, epochs and curve are the first seed's."]
        by = {r["model"]: r for r in d["rows"]}
        ratio = d.get("ratio_vs_recbole") or (by["daogou-rec"]["ndcg@10"] / by["RecBole SASRec"]["ndcg@10"]
                                              if {"daogou-rec", "RecBole SASRec"} <= set(by) else None)
        if ratio:
            lines += ["", f"daogou-rec / RecBole SASRec NDCG@10 = {ratio:.2f}×"]
        curves = [r for r in d["rows"] if dataset == "demo" and r.get("history")]
        if curves:
            lines += ["", "Validation NDCG@10 by epoch:", ""]
            for r in curves:
                points = [h["valid"] for h in r["history"]]
                start = f"untrained {r['untrained_valid']:.3f} → " if r.get("untrained_valid") is not None else ""
                lines.append(f"- {r['model']}: {start}" + " → ".join(f"{v:.3f}" for v in points)
                             + f" (best epoch {r['best_epoch']})")
        return "\n".join(lines) + "\n\n" + _source(name, d)
    return render


def import_() -> str:
    d = _load("import.json")
    if d is None:
        return _missing("import.json", "python bench/import.py")
    lines = ["| dataset | events | import s | events/s | wall s (interpreter start included) | peak RSS |",
             "|---|---|---|---|---|---|"]
    for r in d["results"]:
        lines.append(f"| {r['dataset']} | {r['events']:,} | {r['import_s']} | {r['events_per_s']:,} | {r['wall_s']} | "
                     f"{_mb(r['peak_rss_mb'])} |")
    return "\n".join(lines) + "\n\n" + _source("import.json", d)


def search_quality() -> str:
    d = _load("search_quality.json")
    if d is None:
        return _missing("search_quality.json", "python bench/search.py quality")
    encoders = sorted({r["encoder"] for r in d["retrieval"] if r["encoder"] != "-"})
    cols = [("lexical", "-", "BM25")] + [(m, e, f"{m} {e}") for e in encoders for m in ("dense", "hybrid")]
    sets = {"esci full catalog": "ESCI, 500 real Amazon queries over the judged titles",
            "demo en": "demo store, English known-answer queries (with query understanding)",
            "demo zh": "demo store, Chinese known-answer queries (with query understanding)",
            "demo en raw": "demo store, English, raw search (no query understanding)",
            "demo zh raw": "demo store, Chinese, raw search (no query understanding)"}
    lines = ["| query set (nDCG@10) | " + " | ".join(c[2] for c in cols) + " |", "|---|" + "---|" * len(cols)]
    at = {(r["set"], r["mode"], r["encoder"]): r for r in d["retrieval"]}
    for key, label in sets.items():
        row = [at.get((key, m, e)) for m, e, _ in cols]
        if any(row):
            n = next(r["queries"] for r in row if r)
            lines.append(f"| {label} ({n}) | " + " | ".join(f"{r['ndcg@10']:.3f}" if r else "–" for r in row) + " |")
    rr = {(r["mode"], r["encoder"]): r for r in d.get("rerank", [])}
    if rr:
        lines.append("| ESCI Task-1 re-ranking of judged lists (cross-encoder baseline 0.83) | "
                     + " | ".join(f"{rr[(m, e)]['ndcg_all_500']:.3f}" if (m, e) in rr else "–" for m, e, _ in cols)
                     + " |")
    return "\n".join(lines) + "\n\n" + _source("search_quality.json", d)


def adapt() -> str:
    d = _load("adapt.json")
    if d is None:
        return _missing("adapt.json", "python bench/adapt.py")
    lines = ["| set | variant | nDCG@10 | Recall@50 | note |", "|---|---|---|---|---|"]
    for r in d["esci"]:
        lines.append(f"| ESCI, 500 queries | {r['variant']} | {r['ndcg@10']:.3f} | {r['recall@50']:.3f} | "
                     f"search p50 {r['p50_ms']} / p99 {r['p99_ms']} ms (query vectors cached) |")
    for r in d["demo"]:
        lines.append(f"| demo, later sessions ({r['searches']} searches with a purchase) | {r['variant']} | "
                     f"{r['ndcg@10']:.3f} | {r['recall@50']:.3f} | {r['lift']:+.0%} vs hybrid |")
    for r in d["known_answer"]:
        lines.append(f"| {r['set']} known-answer queries ({r['queries']}) | {r['variant']} | {r['ndcg@10']:.3f} | "
                     f"{r['recall@50']:.3f} | |")
    rr = d["rerank"]
    text = (f"\n\nRe-ranker: {rr['trees']} trees trained on {rr['train_searches']:,} earlier searches in "
            f"{rr['train_seconds']} s; re-ranking 100 candidates costs p50 {rr['rerank_ms_p50']} ms, "
            f"p99 {rr['rerank_ms_p99']} ms per search.")
    if d.get("adapt"):
        a = d["adapt"]
        text += (f" Adaptation: {a['pseudo_queries']:,} pseudo queries from the 658 ESCI titles (e.g. "
                 f"{', '.join(repr(q) for q in a['examples'][:3])}), {a['hard_negatives']:,} mined negatives, "
                 f"{a['seconds']:.0f} s.")
    return "\n".join(lines) + text + "\n\n" + _source("adapt.json", d)


def esci_ablation() -> str:
    d = _load("esci_ablation.json")
    if d is None:
        return _missing("esci_ablation.json", "python bench/esci_ablation.py")
    lines = ["| ESCI, 500 queries, no labels used | nDCG@10 | Recall@50 | vs today's hybrid |", "|---|---|---|---|"]
    for r in d["rows"]:
        lines.append(f"| {r['variant']} | {r['ndcg@10']:.3f} | {r['recall@50']:.3f} | {r['vs_hybrid']:+.1%} |")
    text = (f"\n\nCeiling: {d['ceiling']:.3f} (the share of queries with a judged product of positive grade; a query "
            "whose judged products are all irrelevant scores 0 whatever is returned).")
    return "\n".join(lines) + text + "\n\n" + _source("esci_ablation.json", d)


def search_speed() -> str:
    files = sorted(RESULTS.glob("search_speed_*.json"))
    if not files:
        return _missing("search_speed_<encoder>.json", "python bench/search.py speed --encoder NAME")
    lines = ["| products | catalog | encoder | dense index | build s | products/s (raw encoder texts/s) | "
             "query encoding p99 ms (words all known) | p50 ms | p99 ms | p99 ms, query seen before | RSS |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    sources, goals, once = [], [], []
    for f in files:
        d = json.loads(f.read_text(encoding="utf-8"))
        for r in d["speed"]:
            known = r.get("query_encode_known_words_p99_ms")
            encode = "–" if "query_encode_p99_ms" not in r else f"{r['query_encode_p99_ms']}" + (
                f" ({known}, {r['queries_with_known_words']} of 200 queries)" if known is not None else "")
            lines.append(f"| {r['products']:,} | {r.get('catalog', 'generated')} | {r['encoder']} | {r['dense_index']} | "
                         f"{_n(r['build_s'])} | {r['build_products_per_s']:,} ({r['raw_encoder_texts_per_s']:,}) | "
                         f"{encode} | {r['p50_ms']} | "
                         f"{r['p99_ms']} | {r.get('warm_p99_ms', '–')} | {_mb(r['rss_mb'])} |")
            limit = {100_000: 30, 1_000_000: 50}.get(r["products"])
            if limit:
                goals.append(f"search p99 ≤ {limit} ms at {r['products']:,} products ({r.get('catalog', 'generated')}), "
                             f"query encoding included — {r['encoder']}: {r['p99_ms']} ms — **{'met' if r['p99_ms'] <= limit else 'not met'}**")
            if "query_encode_p99_ms" in r and r["products"] >= 100_000:
                goals.append(f"indexing ≥ 500 products/s and query encoding p99 ≤ 5 ms at {r['products']:,} "
                             f"({r.get('catalog', 'generated')}) — "
                             f"{r['encoder']}: {r['build_products_per_s']:,}/s, {r['query_encode_p99_ms']} ms — "
                             f"**{'met' if r['build_products_per_s'] >= 500 and r['query_encode_p99_ms'] <= 5 else 'not met'}**")
        sources.append(_source(f.name, d))
        if d.get("common_words_once_s") is not None:
            once.append(f"{d['common_words_once_s']} s before `{f.name}`")
    if goals:
        lines += [""] + ["Goal: " + g + "." for g in goals]
    if once:
        lines += ["", "e5-static's build times leave out the languages' common words, which a machine learns once "
                      "and caches for every store after (" + "; ".join(once) + ")."]
    return "\n".join(lines) + "\n\n" + "<br>".join(sources)


def scale_products() -> str:
    d = _load("scale.json")
    if d is None or not d.get("products"):
        return _missing("scale.json", "python bench/scale.py")
    names = {"flat": "flat", "hnsw": "HNSW", "ivfpq": "IVF-PQ + exact re-score"}
    lines = ["| products | index (by size) | build s | peak RSS | search p50 ms | p99 ms | p99 ms, filter keeps 50% | "
             "recall@10 |", "|---|---|---|---|---|---|---|---|"]
    for r in d["products"]:
        lines.append(f"| {r['products']:,} | {names.get(r['index'], r['index'])} | {r['build_s']} | "
                     f"{_mb(r['peak_rss_mb'])} | {r['p50_ms']} | {r['p99_ms']} | {r['filtered_p99_ms']} | "
                     f"{r['recall@10']:.3f} |")
    big = max(d["products"], key=lambda r: r["products"])
    ok = big["peak_rss_mb"] <= 2048 and big["p99_ms"] <= 50
    lines += ["", f"Goal: 1M products indexed in ≤ 2 GB with search p99 ≤ 50 ms — at {big['products']:,}: "
              f"{_mb(big['peak_rss_mb'])}, p99 {big['p99_ms']} ms — **{'met' if ok else 'not met'}**."]
    return "\n".join(lines) + "\n\n" + _source("scale.json", d)


def scale_events() -> str:
    d = _load("scale.json")
    if d is None or not d.get("events"):
        return _missing("scale.json", "python bench/scale.py")
    workers = sorted({t["workers"] for r in d["events"] for t in r["training"]})
    lines = ["| events | import s | events/s | import peak RSS | "
             + " | ".join(f"epoch s, {w} {'process' if w == 1 else 'Ray workers'}" for w in workers)
             + " | training peak RSS |", "|---|---|---|---|" + "---|" * len(workers) + "---|"]
    for r in d["events"]:
        by = {t["workers"]: t for t in r["training"]}
        epochs = [str(by[w]["epoch_s"]) if w in by else "not measured" for w in workers]
        rss = " / ".join(_mb(by[w].get("peak_rss_mb")) for w in workers if w in by) or "–"
        lines.append(f"| {r['events']:,} | {r['import_s']} | {r['events_per_s']:,} | {_mb(r['peak_rss_mb'])} | "
                     + " | ".join(epochs) + f" | {rss} |")
    big = max(d["events"], key=lambda r: r["events"])
    rates = [r["events_per_s"] for r in d["events"]]
    lines += ["", f"Goal: 10M events imported in ≤ 2 GB — at {big['events']:,}: {_mb(big['peak_rss_mb'])} — "
              f"**{'met' if big['peak_rss_mb'] <= 2048 else 'not met'}**; import rate {min(rates):,}–{max(rates):,} "
              "events/s across the sizes."]
    return "\n".join(lines) + "\n\n" + _source("scale.json", d)


def serve() -> str:
    d = _load("serve.json")
    if d is None:
        return _missing("serve.json", "python bench/serve.py")
    lines = ["| endpoint | LLM | clients | requests | p50 ms | p99 ms | req/s | errors |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in d["rows"]:
        llm = r["llm"] if r["llm"] == "-" or not r.get("model") or r["llm"] == "template" else \
            f"{r['llm']} ({r['model']})"
        endpoint = "chat (one turn)" if r["endpoint"] == "chat" else r["endpoint"]
        lines.append(f"| {endpoint} | {llm} | {r['clients']} | {r['requests']} | {_n(r['p50_ms'])} | "
                     f"{_n(r['p99_ms'])} | {_n(r['throughput_rps'])} | {r['errors']} |")
    goals = []
    for endpoint, limit in (("search", 50), ("recommend", 100)):
        row = next((r for r in d["rows"] if r["endpoint"] == endpoint and r["clients"] == 20), None)
        if row:
            ok = row["p99_ms"] <= limit and row["errors"] == 0
            goals.append(f"`/v1/{endpoint}` p99 ≤ {limit} ms at 20 clients with 0 errors — {_n(row['p99_ms'])} ms, "
                         f"{row['errors']} errors — **{'met' if ok else 'not met'}** in this run")
    if goals:
        lines += ["", "Goals: " + "; ".join(goals) + "."]
    if d.get("workers"):
        lines += ["", f"Served by {d['workers']} worker process{'es' if d['workers'] > 1 else ''} "
                      f"(`daogou serve --workers {d['workers']}`)."]
    return "\n".join(lines) + "\n\n" + _source("serve.json", d)


def serve_repeat() -> str:
    d = _load("serve_repeat.json")
    if d is None or not d.get("runs"):
        return _missing("serve_repeat.json", "python bench/serve.py --llms template --clients 20 --repeat 5 "
                        "--out bench/results/serve_repeat.json")
    lines = ["| run | workers | search p99 ms | recommend p99 ms | errors | goals met |", "|---:|---:|---:|---:|---:|---|"]
    for i, r in enumerate(d["runs"], 1):
        lines.append(f"| {i} | {d['workers']} | {_n(r['search_p99_ms'])} | {_n(r['recommend_p99_ms'])} | {r['errors']} | "
                     f"{'yes' if r['met'] else 'no'} |")
    met = sum(r["met"] for r in d["runs"])
    lines += ["", f"Goal: `/v1/search` p99 ≤ 50 ms and `/v1/recommend` p99 ≤ 100 ms at 20 clients, 0 errors, in "
                  f"5 of 5 runs — {met} of {len(d['runs'])} — **{'met' if met == len(d['runs']) >= 5 else 'not met'}**."]
    return "\n".join(lines) + "\n\n" + _source("serve_repeat.json", d)


def fuzz() -> str:
    d = _load("fuzz.json")
    if d is None:
        return _missing("fuzz.json", "python bench/fuzz.py")
    classes = d["responses_by_class"]
    lines = ["| requests fuzzed | operations × callers | 2xx | 4xx | 5xx | schema violations | server alive after |",
             "|---:|---|---:|---:|---:|---:|---|",
             f"| {d['requests']:,} | {d['operations']} × {len(d['callers'])} ({', '.join(d['callers'])}) | "
             f"{classes.get('2xx', 0):,} | {classes.get('4xx', 0):,} | {d['server_errors']} | {d['violations']} | "
             f"{'yes' if d.get('server_alive_after') else 'no'} |"]
    f = d.get("importers")
    if f:
        formats = ", ".join(f"{k} {v}" for k, v in sorted(f["by_format"].items()))
        lines += ["", "| files fuzzed (importers) | lines | quarantined | refused whole (clear error) | crashes | "
                      "every line accounted for |", "|---:|---:|---:|---:|---:|---|",
                  f"| {f['files']:,} ({formats}) | {f['lines']:,} | {f['quarantined']:,} | {f['refused_whole']} | "
                  f"{0 if f['all_accounted'] else 'see log'} | {'yes' if f['all_accounted'] else 'no'} |"]
    return "\n".join(lines) + "\n\n" + _source("fuzz.json", d, "python bench/fuzz.py")


def soak() -> str:
    d = _load("soak.json")
    if d is None:
        return _missing("soak.json", "python bench/soak.py")
    lines = ["| phase | sessions | seconds | requests | errors | search p99 ms | recommend p99 ms | chat p95 ms | "
             "server RSS | open fds |", "|---|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    for name in ("load", "soak"):
        p = d[name]
        by = p["by_action"]
        lines.append(f"| {name} | {p['sessions']} | {p['seconds']:.0f} | {p['requests']:,} | {p['errors']} | "
                     f"{by['search']['p99_ms']} | {by['recommend']['p99_ms']} | {by['chat']['p95_ms']} | "
                     f"{p['rss_mb_after_warmup']:.0f} → {p['rss_mb_end']:.0f} MB ({100 * p['memory_growth']:+.1f}%) | "
                     f"{p['fds_after_warmup']} → {p['fds_end']} |")
    g, met = d["goals"], d["met"]
    lines += ["", f"Goals at {d['load']['sessions']} sessions: chat turn p95 ≤ {g['chat_p95_ms']} ms "
              f"(**{'met' if met['chat_p95_ms'] else 'not met'}**), search p99 ≤ {g['search_p99_ms']} ms "
              f"(**{'met' if met['search_p99_ms'] else 'not met'}**), 0 errors "
              f"(**{'met' if met['errors'] else 'not met'}**); over the soak, memory growth ≤ "
              f"{100 * g['memory_growth']:.0f}% (**{'met' if met['memory_growth'] else 'not met'}**) and no "
              f"file-descriptor growth (**{'met' if met['fds'] else 'not met'}**)."]
    return "\n".join(lines) + "\n\n" + _source("soak.json", d, "python bench/soak.py")


def chaos() -> str:
    d = _load("chaos.json")
    if d is None:
        return _missing("chaos.json", "python bench/chaos.py")
    s, t, i, f = d["server"], d["train"], d["index"], d["disk_full"]
    disk = f["skipped"] if "skipped" in f else (
        f"clear error: {'yes' if f['clear_message'] else 'no'}; committed products kept: {f['committed_products_kept']}"
        f" of 100; integrity {f['integrity']}")
    lines = ["| scenario | kills | checked after | lost or broken |", "|---|---:|---|---|",
             f"| `daogou serve` under {s['clients']} clients | {s['kills']} | {s['events_acknowledged']:,} acknowledged "
             f"events, {s['conversations_answered']} answered conversations | {s['events_lost']} events lost, "
             f"{s['conversations_answered'] - s['conversations_continued']} conversations not continued, "
             f"{s['integrity_failures']} integrity failures |",
             f"| `daogou train` | {t['killed']} of {t['runs']} runs | bundle hashes after each | "
             f"{t['failed_checks']} broken |",
             f"| `daogou index` | {i['killed']} of {i['runs']} runs | a search after each | {i['failed_checks']} broken |",
             f"| full disk (3 MB tmpfs home) | – | {disk} | – |"]
    return "\n".join(lines) + "\n\n" + _source("chaos.json", d, "python bench/chaos.py")


def rec_variants() -> str:
    name = "rec_beauty_variants.json"
    d = _load(name)
    if d is None:
        return _missing(name, "python bench/rec.py beauty --full --models daogou-rec --label … --options … "
                              "--out rec_beauty_variants")
    lines = ["| daogou-rec variant | options, training | seed | patience | NDCG@10 | NDCG@10 / HR@10, history masked | "
             "epochs (best) |", "|---|---|---|---|---|---|---|"]
    for r in d["rows"]:
        how = ", ".join([f"{k} {v}" for k, v in r.get("options", {}).items()]
                        + [f"{k} {v}" for k, v in r.get("train", {}).items()]) or "defaults"
        m = r["masked"]
        lines.append(f"| {r['label']} | {how} | {r.get('seed', 0)} | {r.get('patience', '')} | {r['ndcg@10']:.4f} | "
                     f"{m['ndcg@10']:.4f} / {m['hr@10']:.4f} | {r['epochs']} ({r.get('best_epoch', '')}) |")
    best = [p for p in d.get("published", []) if p.get("masked")]
    if best:
        lines += ["", "Published, history masked: " + "; ".join(
            f"{p['model']} {p['masked']['ndcg@10']:.4f} / {p['masked']['hr@10']:.4f}" for p in best) + "."]
    lines += ["", d.get("note", "")]
    return "\n".join(lines) + "\n\n" + _source(name, d, "python bench/rec.py beauty --full --models daogou-rec "
                                                         "--label … --options … --out rec_beauty_variants")


SECTIONS: dict[str, Callable[[], str]] = {
    "first-start": first_start, "understanding": understanding, "named-kind": named_kind,
    "replies": replies, "generate": generate,
    "multimodal": multimodal, "rec-beauty": rec("beauty"), "rec-beauty-full": rec("beauty_full"),
    "rec-beauty-variants": rec_variants, "rec-taobao": rec("taobao"),
    "rec-movielens": rec("movielens"), "rec-demo": rec("demo"), "import": import_, "search-quality": search_quality, "adapt": adapt,
    "esci-ablation": esci_ablation,
    "search-speed": search_speed, "scale-products": scale_products, "scale-events": scale_events, "serve": serve,
    "serve-repeat": serve_repeat,
    "fuzz": fuzz, "soak": soak, "chaos": chaos,
}


def render(text: str) -> tuple[str, list[str]]:
    """README text with every marked section rendered; and the names of marks that no renderer knows."""
    unknown: list[str] = []

    def section(m: re.Match) -> str:
        name = m.group("name")
        if name not in SECTIONS:
            unknown.append(name)
            return m.group(0)
        return f"{m.group(1)}{SECTIONS[name]().rstrip()}\n{m.group(4)}"
    return MARK.sub(section, text), unknown


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="compare only; exit 1 when README.md is out of date")
    ap.add_argument("--readme", type=Path, default=README)
    args = ap.parse_args(argv)
    text = args.readme.read_text(encoding="utf-8")
    new, unknown = render(text)
    if unknown:
        print(f"README marks with no renderer: {', '.join(unknown)}", file=sys.stderr)
        return 2
    if args.check:
        if new != text:
            sys.stdout.writelines(difflib.unified_diff(text.splitlines(True), new.splitlines(True), "README.md",
                                                       "rendered from bench/results"))
            return 1
        return 0
    if new != text:
        args.readme.write_text(new, encoding="utf-8")
    print(f"{len(MARK.findall(new))} sections rendered into {args.readme}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
