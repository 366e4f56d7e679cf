"""Does the chat show the kind of product the shopper named, and still follow their taste?

    python bench/named_kind.py                 # demo home under bench/.work/understanding (built if missing)
    python bench/named_kind.py --shoppers 5    # a quick look

Every product noun of the demo store, in English and in Chinese ("yoga mat", "瑜伽垫", "knife set", "护发素", 80 in
all), is asked as a new chat by demo shoppers with a history and by an anonymous one. A category holds several
kinds (Sports > Yoga: mats, blocks, straps), and the chat blends the shopper's recommender score into the search
order; the question is whether that blend ever puts another kind of the category ahead of the one asked for.

- **named kind@3**: share of the first three cards whose title (either language) names the noun asked for;
- **taste@3**: of the first three cards in a category where the shopper has a planted favourite brand, the share of
  that brand (the demo's planted truth): personalisation kept;
- the same for the anonymous shopper, who has no taste to follow.

Writes bench/results/named_kind.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
RESULTS = ROOT / "bench" / "results"

from _common import machine  # noqa: E402


def nouns() -> list[tuple[str, str, str]]:
    """(query, its language, category path) for every product noun of the demo store, both languages."""
    from daogou.catalog.demo_vocab import CATEGORIES
    out = []
    for c in CATEGORIES:
        path = " > ".join(c["path"])
        for en, zh in c["nouns"]:
            out += [(en.lower(), "en", path), (zh, "zh", path)]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--home", type=Path, default=ROOT / "bench" / ".work" / "understanding")
    ap.add_argument("--shoppers", type=int, default=12, help="demo shoppers with the most events")
    ap.add_argument("--out", type=Path, default=RESULTS / "named_kind.json")
    args = ap.parse_args()

    from serve import ensure_demo
    ensure_demo(args.home)
    import shutil
    import tempfile
    work = Path(tempfile.mkdtemp(prefix="named-kind-"))
    shutil.copytree(args.home, work / "home")  # the chats record searches: never into the shared demo home
    args.home = work / "home"
    from daogou.catalog.demo_store import load_demo_truth
    from daogou.catalog.store import Store
    from daogou.config import StoreConfig
    from daogou.serve.services import EventLog, build_services, default_bundle
    from daogou.serve.settings import ServeSettings

    store = Store.open(StoreConfig(home=args.home))
    settings = ServeSettings(home=args.home, llm_backend="template")
    services = build_services(store, settings, default_bundle(settings), EventLog(store))
    assistant, products = services.assistant, {p.id: p for p in services.searcher.products}
    truth = load_demo_truth(args.home)
    counts = {sid: len(store.event_rows([sid])) for sid in truth.shoppers}
    shoppers = sorted(counts, key=lambda s: (-counts[s], s))[:args.shoppers]
    queries = nouns()

    def titles(pid: str) -> str:
        p = products[pid]
        return " ".join([p.title] + [t.get("title", "") for t in (p.translations or {}).values()]).lower()

    rows = []
    t0 = time.perf_counter()
    for who in ["anonymous"] + shoppers:
        for query, lang, path in queries:
            shopper = f"bench-anon-{query}" if who == "anonymous" else who
            conv = assistant.start(shopper, lang)
            reply = assistant.reply(conv, query)
            top = [c.id for c in reply.cards[:3]]
            named = [query.lower() in titles(pid) for pid in top]
            fav = truth.shoppers[who].brands.get(path) if who != "anonymous" else None
            in_cat = [pid for pid in top if " > ".join(products[pid].category) == path]
            rows.append({"shopper": who, "query": query, "lang": lang, "cards": len(reply.cards),
                         "named": sum(named), "shown": len(top), "favourite": fav,
                         "favourite_shown": sum(products[pid].brand == fav for pid in in_cat) if fav else None,
                         "in_category": len(in_cat)})
    seconds = time.perf_counter() - t0

    def rate(sel, num, den) -> float | None:
        n = sum(r[den] for r in sel)
        return round(sum(r[num] for r in sel) / n, 4) if n else None

    table = {}
    for label, sel in (("anonymous", [r for r in rows if r["shopper"] == "anonymous"]),
                       ("with history", [r for r in rows if r["shopper"] != "anonymous"])):
        taste = [r for r in sel if r["favourite"]]
        table[label] = {"turns": len(sel), "named_kind@3": rate(sel, "named", "shown"),
                        "named_kind@3_en": rate([r for r in sel if r["lang"] == "en"], "named", "shown"),
                        "named_kind@3_zh": rate([r for r in sel if r["lang"] == "zh"], "named", "shown"),
                        "taste@3": rate(taste, "favourite_shown", "in_category") if taste else None,
                        "turns_with_a_favourite": len(taste)}
    print("| shoppers | turns | named kind@3 | en | zh | taste@3 (planted favourite brand) |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, t in table.items():
        taste = "–" if t["taste@3"] is None else f"{100 * t['taste@3']:.1f}% ({t['turns_with_a_favourite']} turns)"
        print(f"| {label} | {t['turns']} | {100 * t['named_kind@3']:.1f}% | {100 * t['named_kind@3_en']:.1f}% | "
              f"{100 * t['named_kind@3_zh']:.1f}% | {taste} |")
    worst = sorted([r for r in rows if r["shopper"] != "anonymous"], key=lambda r: r["named"] / max(1, r["shown"]))
    misses = [f"{r['shopper']} “{r['query']}”: {r['named']}/{r['shown']}" for r in worst if r["named"] < r["shown"]]
    print(f"\n{len(misses)} personal turns show another kind among the first three; e.g. " + "; ".join(misses[:6]))
    out = {"benchmark": "named_kind", "meta": machine(), "seconds": round(seconds, 1), "shoppers": shoppers,
           "queries": len(queries), "table": table, "misses": misses}
    args.out.write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"wrote {args.out}")
    store.close()
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
