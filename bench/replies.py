"""What a shopper reads, judged: chat replies and product copy per LLM backend, scored by an independent judge.

    python bench/replies.py                               # every backend available: template, llamacpp, openai
    python bench/replies.py --backends template           # one backend (its entry in the JSON is replaced)
    python bench/replies.py --copy 20 --subset 10          # a quick look
    python bench/replies.py --llm-subset 15 --llm-copy 15  # the whole set for the template, a part for models

Plays, on the demo store (home: bench/.work/understanding, built with `daogou demo --no-serve` if missing) and on
the toys catalog of ../shared/datasets (imported once into bench/.work/replies-toys):

- the dialogues of the understanding benchmark (bench/understanding/dialogues_*.jsonl, demo store);
- product questions (bench/replies/questions_*.jsonl: attribute values, details, comparisons, open questions),
  each after a search for one category of the store, categories in turn, the two stores alternating;
- product copy in every style (short, long, bullets) in English and Chinese for ``--copy`` products of each store.

Every text the shopper would read goes through ``bench/judge.py`` (the gate's rules written again without the
gate's code), and answers to attribute questions are checked against the product's own value. Prints per backend:
texts judged bad, first text shown p50/p95 and the full reply p95 (one client, in process), and what the gate
rejected; writes bench/results/replies.json (entries of other backends are kept) and 30 sampled texts per backend
to bench/results/replies_samples.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
RESULTS = ROOT / "bench" / "results"
SET = ROOT / "bench" / "replies"
DIALOGUES = ROOT / "bench" / "understanding"
DATASETS = Path(os.environ.get("DAOGOU_DATASETS", ROOT.parent / "shared" / "datasets"))
WORK = ROOT / "bench" / ".work"
STYLES = ("short", "long", "bullets")
GOAL_BAD, GOAL_FULL_P95_MS = 0, 1500


# ---------------------------------------------------------------- the stores

def demo_guide(home: Path):
    from serve import ensure_demo
    ensure_demo(home)
    return _guide(home, bundle=True)


def toys_guide(home: Path):
    from daogou.catalog.importers import ImportOptions, run_import
    from daogou.catalog.store import Store
    from daogou.config import StoreConfig
    from generate import TOYS_CSV, TOYS_MAPPING
    store = Store.open(StoreConfig(home=home))
    if store.count("products") == 0:
        print(f"importing the toys catalog into {home} …", flush=True)
        run_import(store, "products", DATASETS / TOYS_CSV,
                   ImportOptions(mapping=TOYS_MAPPING, currency="GBP", language="en"), progress=False)
    store.close() if hasattr(store, "close") else None
    return _guide(home, bundle=False)


def _guide(home: Path, bundle: bool):
    from daogou.catalog.store import Store
    from daogou.config import StoreConfig
    from daogou.serve.services import EventLog, build_services, default_bundle
    from daogou.serve.settings import ServeSettings
    store = Store.open(StoreConfig(home=home))
    settings = ServeSettings(home=home, llm_backend="template")
    services = build_services(store, settings, default_bundle(settings) if bundle else None, EventLog(store))
    return services


def with_backend(services, backend):
    """The services' assistant writing with ``backend`` (the gate and its fallback as `daogou serve` has them)."""
    from daogou.generate import Lexicon, Writer
    writer = Writer(backend, Lexicon.from_products(services.searcher.products))
    services.assistant.writer = writer
    services.writer = writer
    return writer


def categories(services, lang: str) -> list[str]:
    """What a shopper types to see one category: its leaf name (the demo's Chinese name in Chinese)."""
    from daogou.catalog import demo_vocab as V
    zh = {tuple(c["path"]): c["leaf_zh"] for c in V.CATEGORIES} if hasattr(V, "CATEGORIES") else {}
    leaves = sorted({p.category for p in services.searcher.products if p.category})
    counts = Counter(p.category for p in services.searcher.products if p.category)
    out = []
    for path in leaves:
        if counts[path] < 6:
            continue
        name = zh.get(tuple(path)) if lang == "zh" else None
        out.append(name or path[-1].lower())
    return out


# ---------------------------------------------------------------- playing

RUN = f"{int(time.time()):x}"  # shoppers of this run are new: no history from earlier runs changes the replies


class Play:
    def __init__(self, services, judge, catalog: str, backend: str):
        self.s, self.judge, self.catalog, self.backend = services, judge, catalog, backend
        self.products = {p.id: p for p in services.searcher.products}
        self.records: list[dict] = []

    def turn(self, conv, message: str, lang: str, source: str, question: dict | None = None,
             previous_ids: list[str] | None = None, focus: str | None = None) -> dict:
        t0 = time.perf_counter()
        first = None
        final = {}
        for update in self.s.assistant.stream(conv, message):
            if update.event == "delta" and update.data.get("text") and first is None:
                first = time.perf_counter() - t0
            elif update.event == "done":
                final = update.data
        full = time.perf_counter() - t0
        text = final.get("text") or ""
        ids = [c["id"] for c in final.get("cards", [])]
        kind = final.get("kind")
        subjects = [self.products[i] for i in (ids[:1] if kind in ("question", "detail") else ids) if i in self.products]
        cons = final.get("constraints") or {}
        request = message + " " + json.dumps({k: v for k, v in cons.items() if v}, ensure_ascii=False)
        budget = cons.get("price_max") or cons.get("price_min")
        allow = [v for v in (cons.get("price_min"), cons.get("price_max")) if isinstance(v, (int, float))]
        allow += [float(final.get("total") or 0), float(len(ids))]
        problems = self.judge.text(text, subjects, request=request, budget=budget, lang=lang, allow_numbers=allow) \
            if text else []
        if question and question.get("intent") == "attribute" and previous_ids:
            ref = question.get("ref", 0)
            pos = len(previous_ids) - 1 if ref == "last" else ref if isinstance(ref, int) else 0
            named = {"position-word", "ordinal-number"} & set(question.get("tags", ())) or ref == "last"
            target = previous_ids[pos] if pos < len(previous_ids) else None
            if not named and focus:  # "颜色呢", "is it waterproof": the product talked about last
                target = focus
            if target in self.products:
                problems += self.judge.answer(text, self.products[target], question["key"], lang)
        rec = {"catalog": self.catalog, "source": source, "message": message, "lang": lang, "kind": kind,
               "text": text, "backend_used": final.get("backend") or "facts", "problems": problems,
               "first_ms": round(1000 * first, 1) if first is not None else None, "full_ms": round(1000 * full, 1),
               "ids": ids[:3]}
        self.records.append(rec)
        return final

    def dialogues(self, subset: int | None) -> None:
        for path in sorted(DIALOGUES.glob("dialogues_*.jsonl")):
            rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
            for d in rows[:subset] if subset else rows:
                conv = self.s.assistant.start(f"bench-replies-{RUN}-{self.backend}-{d['id']}", d.get("lang", "en"))
                for t in d["turns"]:
                    self.turn(conv, t["text"], d.get("lang", "en"), f"dialogue {d['id']}")

    def questions(self, questions: list[dict], lang: str, offset: int) -> None:
        names = categories(self.s, lang) or categories(self.s, "en")
        for i in range(0, len(questions), 3):
            name = names[(offset + i // 3) % len(names)]
            conv = self.s.assistant.start(f"bench-replies-{RUN}-{self.backend}-{self.catalog}-{lang}-{i}", lang)
            said = "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in name) else "en"
            found = self.turn(conv, name, said, "question search")
            shown = [c["id"] for c in found.get("cards", [])]
            focus = None
            for q in questions[i:i + 3]:
                got = self.turn(conv, q["text"], lang, f"question {q['id']}", question=q, previous_ids=shown,
                                focus=focus)
                if got.get("kind") in ("search", "refine"):  # the conversation shows other cards now
                    shown, focus = [c["id"] for c in got.get("cards", [])], None
                elif got.get("kind") in ("question", "detail") and got.get("cards"):
                    focus = got["cards"][0]["id"]

    def copy(self, n: int, writer) -> None:
        priced = [p for p in self.products.values() if p.price is not None]
        step = max(1, len(priced) // max(1, n))
        for p in priced[::step][:n]:
            for style in STYLES:
                for lang in ("en", "zh"):
                    t0 = time.perf_counter()
                    result = writer.copy([p], lang=lang, style=style)[0]
                    full = time.perf_counter() - t0
                    problems = self.judge.text(result.text, [p], lang=lang)
                    self.records.append({"catalog": self.catalog, "source": f"copy {style}", "message": "",
                                         "lang": lang, "kind": "copy", "text": result.text,
                                         "backend_used": result.backend, "problems": problems, "first_ms": None,
                                         "full_ms": round(1000 * full, 1), "ids": [p.id]})


def load_questions(subset: int | None) -> dict[str, list[dict]]:
    out = {}
    for lang in ("en", "zh"):
        path = SET / f"questions_{lang}.jsonl"
        rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
        out[lang] = rows[:subset * 3] if subset else rows
    return out


# ---------------------------------------------------------------- one backend

OPENAI = {"url": "", "model": ""}


def make_backend(name: str, threads: int):
    from daogou.generate import LLMConfig, get_backend
    if name == "template":
        return get_backend(LLMConfig(backend="template")), None
    from daogou.generate.llamacpp import default_model_path, llamacpp_available
    if name == "openai" and OPENAI["url"]:
        return get_backend(LLMConfig(backend="openai", model=OPENAI["model"], base_url=OPENAI["url"],
                                     api_key=os.environ.get("DAOGOU_LLM_API_KEY", ""))), None
    if not llamacpp_available():
        return None, None
    gguf = default_model_path()
    if name == "llamacpp":
        return get_backend(LLMConfig(backend="llamacpp", model=str(gguf), n_threads=threads, n_threads_batch=threads)), None
    from generate import start_server
    proc, base = start_server(gguf, threads)
    return get_backend(LLMConfig(backend="openai", model="smollm2", base_url=base)), proc


def run_backend(name: str, guides: dict, judge_for: dict, questions: dict, args) -> dict | None:
    if name != "template":  # a model takes seconds a text: it may play a part of the set (stated in the JSON)
        args = argparse.Namespace(**{**vars(args), "copy": args.llm_copy if args.llm_copy is not None else args.copy,
                                     "subset": args.llm_subset if args.llm_subset is not None else args.subset})
    backend, proc = make_backend(name, args.threads)
    if backend is None:
        print(f"{name}: not available here (llama-cpp-python or the model is missing) — skipped")
        return None
    started = time.perf_counter()
    records, gate = [], Counter()
    try:
        for c, (catalog, services) in enumerate(guides.items()):
            writer = with_backend(services, backend)
            play = Play(services, judge_for[catalog], catalog, name)
            if catalog == "demo":
                play.dialogues(args.subset)
            for lang in ("en", "zh"):
                half = questions[lang][c::len(guides)]
                play.questions(half, lang, offset=c)
            play.copy(args.copy, writer)
            records += play.records
            for k, v in writer.stats.to_dict().items():
                gate[k] += v
    finally:
        backend.close()
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=20)
    entry = summarise(name, getattr(backend, "model_id", ""), records, dict(gate), time.perf_counter() - started)
    entry["options"] = {"copy": args.copy, "subset": args.subset, "threads": args.threads}
    return entry


def _pct(values: list[float], q: float):
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))], 1)


def summarise(name: str, model: str, records: list[dict], gate: dict, seconds: float) -> dict:
    chat = [r for r in records if r["kind"] != "copy"]
    copy = [r for r in records if r["kind"] == "copy"]
    texts = [r for r in records if r["text"]]
    bad = [r for r in texts if r["problems"]]
    kinds = Counter(p.split(":")[0] for r in bad for p in r["problems"])
    firsts = [r["first_ms"] for r in chat if r["first_ms"] is not None]
    answers = [r for r in chat if r["source"].startswith("question q") and any(p.startswith("answer") for p in
                                                                                  r["problems"])]
    by_source = {}
    for label, rows in (("dialogue turns", [r for r in chat if r["source"].startswith("dialogue")]),
                        ("product questions", [r for r in chat if r["source"].startswith("question")]),
                        ("copy", copy)):
        rows = [r for r in rows if r["text"]]
        by_source[label] = {"texts": len(rows), "bad": sum(1 for r in rows if r["problems"])}
    model_texts = [r for r in texts if r["backend_used"] not in ("facts", "template")]
    return {
        "backend": name, "model": model, "turns": len(chat), "copy_texts": len(copy), "texts": len(texts),
        "bad": len(bad), "bad_by_kind": dict(kinds), "by_source": by_source,
        "attribute_answers_wrong": len(answers),
        "model_texts_shown": len(model_texts),
        "first_text_ms_p50": _pct(firsts, 50), "first_text_ms_p95": _pct(firsts, 95),
        "full_reply_ms_p50": _pct([r["full_ms"] for r in chat], 50),
        "full_reply_ms_p95": _pct([r["full_ms"] for r in chat], 95),
        "copy_ms_p50": _pct([r["full_ms"] for r in copy], 50), "copy_ms_p95": _pct([r["full_ms"] for r in copy], 95),
        "gate": gate, "seconds": round(seconds, 1),
        "bad_examples": [{k: r[k] for k in ("catalog", "source", "message", "text", "problems", "backend_used")}
                         for r in bad[:60]],
        "samples": samples(records),
    }


def samples(records: list[dict], n: int = 30) -> list[dict]:
    rng = random.Random(7)
    chat = [r for r in records if r["kind"] != "copy" and r["text"]]
    copy = [r for r in records if r["kind"] == "copy" and r["text"]]
    picked = rng.sample(chat, min(len(chat), 2 * n // 3)) + rng.sample(copy, min(len(copy), n - 2 * n // 3))
    return [{k: r[k] for k in ("catalog", "source", "message", "lang", "text", "backend_used", "problems")}
            for r in picked]


# ---------------------------------------------------------------- output

def gate_rates(gate: dict) -> tuple[float | None, float | None]:
    """Of the tasks a model wrote: the share whose first draft passed the gate, and the share shown (after the retry)."""
    tasks = gate.get("tasks", 0) - gate.get("language_fallbacks", 0)
    if not gate.get("model_attempts") or tasks <= 0:
        return None, None
    return (round(100 * gate["first_try_ok"] / tasks, 1),
            round(100 * (gate["first_try_ok"] + gate["retry_ok"]) / tasks, 1))


def table(entries: dict) -> str:
    head = ("| backend | turns | copy texts | texts judged bad | attribute answers wrong | model drafts passing the "
            "gate: first try / with the retry | first text p50 / p95 ms | full reply p95 ms | copy p95 ms |\n"
            "|---|---|---|---|---|---|---|---|---|")
    rows = []
    for e in entries.values():
        first, shown = gate_rates(e["gate"])
        drafts = "–" if first is None else f"{first}% / {shown}%"
        rows.append(f"| {e['backend']} | {e['turns']} | {e['copy_texts']} | {e['bad']} of {e['texts']} | "
                    f"{e['attribute_answers_wrong']} | {drafts} | {e['first_text_ms_p50']} / "
                    f"{e['first_text_ms_p95']} | {e['full_reply_ms_p95']} | {e['copy_ms_p95']} |")
    return "\n".join([head] + rows)


def write_samples(entries: dict) -> None:
    lines = ["# Sampled replies, per backend", "",
             "Written by `python bench/replies.py` (30 texts per backend, drawn with a fixed seed from everything the",
             "benchmark showed: chat turns and product copy). A problem the judge found is listed under the text.", ""]
    for e in entries.values():
        lines += [f"## {e['backend']} ({e['model'] or 'no model'})", ""]
        for s in e["samples"]:
            said = f"“{s['message']}” → " if s["message"] else ""
            lines.append(f"- **{s['catalog']} · {s['source']} · {s['lang']} · written by {s['backend_used']}** — "
                         f"{said}{s['text'].replace(chr(10), ' / ')}")
            for p in s["problems"]:
                lines.append(f"  - judged bad: {p}")
        lines.append("")
    (RESULTS / "replies_samples.md").write_text("\n".join(lines), encoding="utf-8")


def machine() -> dict:
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {"python": platform.python_version(), "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count(), "platform": platform.platform(), "load_before": load}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backends", nargs="+", default=["template", "llamacpp", "openai"])
    ap.add_argument("--copy", type=int, default=100, help="products of each store written in every style")
    ap.add_argument("--subset", type=int, default=None, help="the first N dialogues per file, 3N questions")
    ap.add_argument("--llm-copy", type=int, default=None, help="--copy for the model backends (default: --copy)")
    ap.add_argument("--llm-subset", type=int, default=None, help="the first N dialogues per file for the model backends")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--home", type=Path, default=WORK / "understanding")
    ap.add_argument("--toys-home", type=Path, default=WORK / "replies-toys")
    ap.add_argument("--openai-url", default="", help="an OpenAI-compatible server to judge (default: llama_cpp.server "
                    "started here on the packaged SmolLM2)")
    ap.add_argument("--openai-model", default="", help="the served model's name")
    ap.add_argument("--table", type=Path, default=None, help="print the table of a results file and stop")
    args = ap.parse_args()
    if args.table:
        print(table(json.loads(args.table.read_text(encoding="utf-8"))["backends"]))
        return
    OPENAI.update(url=args.openai_url, model=args.openai_model)
    from judge import Judge

    RESULTS.mkdir(parents=True, exist_ok=True)
    before = machine()
    guides = {"demo": demo_guide(args.home), "toys": toys_guide(args.toys_home)}
    judges = {name: Judge(s.searcher.products) for name, s in guides.items()}
    questions = load_questions(args.subset)
    questions_llm = questions  # every product question for every backend; --llm-subset cuts the dialogues
    out_path = RESULTS / "replies.json"
    old = json.loads(out_path.read_text(encoding="utf-8")) if out_path.exists() else {}
    entries = dict(old.get("backends", {}))
    for name in args.backends:
        print(f"{name}: playing …", flush=True)
        entry = run_backend(name, guides, judges, questions if name == "template" else questions_llm, args)
        if entry is None:
            continue
        entry["machine"] = {**before, "load_after": os.getloadavg() if hasattr(os, "getloadavg") else None}
        entries[name] = entry
        print(f"{name}: {entry['bad']} of {entry['texts']} texts judged bad, {entry['seconds']} s", flush=True)
        result = {"benchmark": "replies", "goal": {"bad_default": GOAL_BAD, "full_reply_ms_p95": GOAL_FULL_P95_MS},
                  "backends": entries}
        out_path.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
        write_samples(entries)
    print(table(entries))


if __name__ == "__main__":
    main()
