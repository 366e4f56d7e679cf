"""Understanding benchmark: shopper messages as people write them, played against the library and a real server.

    python bench/understanding.py                  # library + HTTP, on the demo home under bench/.work/understanding
    python bench/understanding.py --home .daogou   # an existing demo home (daogou demo --no-serve)
    python bench/understanding.py --paths library  # library only (no server)
    python bench/understanding.py --subset 40      # the first 40 items of each file (quick look)
    python bench/understanding.py --paths library --encoder e5-static  # the library path on the static student

The set is `bench/understanding/` (format: `bench/understanding/FORMAT.md`): single search messages in English,
Chinese and both, with the constraints they state, and multi-turn dialogues with the state expected after each
turn. The checks here are written against the set's format, apart from the parser:

- a single message passes when the understood constraints equal the expected ones (strict: nothing missing,
  nothing extra) AND what the shopper sees agrees: every result in the asked category, within the stated bounds,
  never an excluded brand or value, a wanted brand only, and the wanted colour first when the store has one;
- a dialogue turn passes when the conversation's state after it holds what the turn expects (kind, category,
  bounds, brands, values), its cards obey that state, references show the cards pointed to, "cheaper" shows
  cheaper cards, and a question about an attribute is answered with the product's own value (or honestly "not
  stated" when the product has none).

Prints pass rates per phenomenon and overall for each path, and the query-understanding time (p50/p99 over every
message, uncached); writes bench/results/understanding.json with the failures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from _common import machine  # noqa: E402  (bench/ is on sys.path when a script runs)

ROOT = Path(__file__).resolve().parents[1]
SET = ROOT / "bench" / "understanding"
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT / "bench"))

APPROX_LOW, APPROX_HIGH = (0.65, 0.9), (1.1, 1.35)  # "around X": bounds within these shares of X
EPS = 0.011  # relative tolerance on converted amounts


# ---------------------------------------------------------------- the set

def load(subset: int | None, folder: Path = SET) -> tuple[list[dict], list[dict]]:
    utterances, dialogues = [], []
    for path in sorted(folder.glob("utterances_*.jsonl")):
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        utterances += rows[:subset] if subset else rows
    for path in sorted(folder.glob("dialogues_*.jsonl")):
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        dialogues += rows[:max(1, subset // 5)] if subset else rows
    return utterances, dialogues


# ---------------------------------------------------------------- checks (independent of the parser)

class Checker:
    def __init__(self, products: dict, rates: dict[str, float], store_currency: str):
        self.products, self.rates, self.currency = products, rates, store_currency

    def _amount(self, value: float | None, currency: str | None) -> float | None:
        if value is None or not currency or currency == self.currency:
            return value
        return value * self.rates[currency] / self.rates[self.currency]

    def bounds(self, expect: dict) -> tuple[float | None, float | None, float | None]:
        cur = expect.get("currency")
        approx = self._amount(expect.get("price_approx"), cur)
        return self._amount(expect.get("price_min"), cur), self._amount(expect.get("price_max"), cur), approx

    def price_errors(self, expect: dict, lo: float | None, hi: float | None, strict: bool) -> list[str]:
        e_lo, e_hi, approx = self.bounds(expect)
        errs = []
        if approx is not None:
            if lo is None or hi is None or not (APPROX_LOW[0] * approx <= lo <= APPROX_LOW[1] * approx
                                                 and APPROX_HIGH[0] * approx <= hi <= APPROX_HIGH[1] * approx):
                errs.append(f"approx {approx:g}: bounds {lo}–{hi}")
            return errs
        for name, want, got in (("price_min", e_lo, lo), ("price_max", e_hi, hi)):
            if name not in expect and "price_approx" not in expect and not strict:
                continue
            if want is None and got is not None:
                errs.append(f"{name}: expected none, got {got:g}")
            elif want is not None and (got is None or abs(got - want) > EPS * max(1.0, want)):
                errs.append(f"{name}: expected {want:g}, got {got}")
        return errs

    def constraint_errors(self, expect: dict, got: dict, strict: bool) -> list[str]:
        """``got``: categories, brands, exclude_brands, attributes, exclude_attributes, sort, price_min, price_max."""
        errs = []
        if strict or "category" in expect:
            want = [expect["category"]] if expect.get("category") else []
            if sorted(got["categories"]) != sorted(want):
                errs.append(f"category: expected {want}, got {got['categories']}")
        for key in ("brands", "exclude_brands"):
            if strict or key in expect:
                want = sorted(expect.get(key) or [])
                if sorted(got[key]) != want:
                    errs.append(f"{key}: expected {want}, got {sorted(got[key])}")
        for key in ("attributes", "exclude_attributes"):
            if strict or key in expect:
                want = {k: sorted(v) for k, v in (expect.get(key) or {}).items()}
                have = {k: sorted(v) for k, v in (got[key] or {}).items() if v}
                if have != want:
                    errs.append(f"{key}: expected {want}, got {have}")
        if (strict or "sort" in expect) and (expect.get("sort") or None) != (got.get("sort") or None):
            errs.append(f"sort: expected {expect.get('sort')}, got {got.get('sort')}")
        errs += self.price_errors(expect, got["price_min"], got["price_max"], strict)
        return errs

    @staticmethod
    def absent_errors(expect: dict, matched) -> list[str]:
        """The store sells nothing of the kind asked for: the answer must say so (``matched`` false). Anything
        else must not claim that nothing matched."""
        if expect.get("absent"):
            return [] if matched is False else ["the store sells none of this, and the answer did not say so"]
        return ["said that nothing matched, though the store sells this"] if matched is False else []

    def card_errors(self, expect: dict, ids: list[str], state: dict | None = None) -> list[str]:
        """What the shopper sees obeys the constraints (the expected ones; the state's for partial expects)."""
        errs = []
        cat = expect.get("category") if "category" in expect else None
        e_lo, e_hi, approx = self.bounds(expect)
        if approx is not None:
            e_lo, e_hi = APPROX_LOW[0] * approx, APPROX_HIGH[1] * approx
        excl = set(expect.get("exclude_brands") or (state or {}).get("exclude_brands") or [])
        wanted = set(expect.get("brands") or [])
        ex_attr = expect.get("exclude_attributes") or {}
        for pid in ids:
            p = self.products[pid]
            path = " > ".join(p.category)
            if cat and not (path == cat or path.startswith(cat + " > ")):
                errs.append(f"card {pid} in {path}, not {cat}")
            if p.price is not None and ((e_lo is not None and p.price < e_lo - 0.01)
                                        or (e_hi is not None and p.price > e_hi + 0.01)):
                errs.append(f"card {pid} at {p.price:g} outside {e_lo}–{e_hi}")
            if p.brand in excl:
                errs.append(f"card {pid} of excluded brand {p.brand}")
            if wanted and p.brand not in wanted:
                errs.append(f"card {pid} of brand {p.brand}, not {sorted(wanted)}")
            for k, vs in ex_attr.items():
                if str(p.attributes.get(k)) in vs:
                    errs.append(f"card {pid} has excluded {k}={p.attributes.get(k)}")
        colours = (expect.get("attributes") or {}).get("color")
        if colours and ids:
            exists = any(str(q.attributes.get("color")) in colours and self._fits(q, cat, e_lo, e_hi, excl, wanted)
                         for q in self.products.values())
            if exists and str(self.products[ids[0]].attributes.get("color")) not in colours:
                errs.append(f"first card not {colours} though the store has one")
        if not ids:
            if any(self._fits(q, cat, e_lo, e_hi, excl, wanted) for q in self.products.values()):
                errs.append("no cards, though matching products exist")
        return errs

    def language_errors(self, lang: str, text: str, titles: list[str]) -> list[str]:
        """The reply is in the shopper's language: in Chinese, no English word of three letters or more outside
        the products' own names (the cards' titles, brands); in English, no Chinese outside the cards' titles."""
        for title in sorted(titles, key=len, reverse=True):
            text = text.replace(title, " ")
        if lang == "zh":
            brands = {(p.brand or "").lower() for p in self.products.values()}
            words = [w for w in re.findall(r"[A-Za-z]{3,}", text) if w.lower() not in brands]
            return [f"reply not in Chinese: {words[:4]}"] if words else []
        han = re.findall(r"[\u4e00-\u9fff]+", text)
        return [f"reply not in English: {han[:4]}"] if han else []

    @staticmethod
    def _fits(p, cat, lo, hi, excl, wanted) -> bool:
        path = " > ".join(p.category)
        return ((not cat or path == cat or path.startswith(cat + " > ")) and p.in_stock
                and (p.price is None or ((lo is None or p.price >= lo) and (hi is None or p.price <= hi)))
                and p.brand not in excl and (not wanted or p.brand in wanted))

    def answer_errors(self, key: str, pid: str | None, answers: list[dict]) -> list[str]:
        if pid is None:
            return ["no product answered about"]
        have = self.products[pid].attributes.get(key)
        mine = [a for a in answers if a.get("key") == key]
        if not mine:
            return [f"no answer about {key} (got {[a.get('key') for a in answers]})"]
        a = mine[0]
        if have is None:
            return [] if a.get("value") is None and a.get("verdict") == "unknown" else [f"{key}: invented {a}"]
        return [] if str(a.get("value")) == str(have) else [f"{key}: answered {a.get('value')}, product has {have}"]


# sizes said in words, smallest first: each list is one scale ("Large" is more than "Medium", "King" than "Single")
_SIZE_SCALES = (("xs", "s", "m", "l", "xl", "xxl"), ("small", "medium", "large", "extra large"),
                ("standard", "large", "extra large"), ("single", "double", "queen", "king"))


def _number(value) -> float | None:
    """The amount of a value, storage in one unit ("1TB" is 1,000 GB); a size word by its place on its scale."""
    word = str(value).strip().lower() if value is not None else ""
    for scale in _SIZE_SCALES:
        if word in scale:
            return float(scale.index(word))
    m = re.search(r"(\d+(?:\.\d+)?)\s*(TB|GB)?", str(value), re.I) if value is not None else None
    if not m:
        return None
    return float(m.group(1)) * (1000.0 if (m.group(2) or "").upper() == "TB" else 1.0)


def parsed_dict(pq) -> dict:
    return {"categories": list(pq.categories), "brands": list(pq.brands), "exclude_brands": list(pq.exclude_brands),
            "attributes": dict(pq.attributes), "exclude_attributes": dict(pq.exclude_attributes), "sort": pq.sort,
            "price_min": pq.price_min, "price_max": pq.price_max}


def state_dict(c: dict) -> dict:
    return {"categories": list(c.get("categories") or []), "brands": list(c.get("brands") or []),
            "exclude_brands": list(c.get("exclude_brands") or []), "attributes": c.get("attributes") or {},
            "exclude_attributes": c.get("exclude_attributes") or {}, "sort": c.get("sort"),
            "price_min": c.get("price_min"), "price_max": c.get("price_max")}


# ---------------------------------------------------------------- one dialogue, whatever the path

def _has(product, key: str, want) -> bool:
    """A product's brand, price or attribute value is the one wanted (case aside)."""
    if key == "brand":
        return (product.brand or "").lower() == str(want).lower()
    if key == "price":
        return product.price is not None and abs(product.price - float(want)) < 0.5
    return str(product.attributes.get(key, "")).lower() == str(want).lower()


def play_dialogue(d: dict, turn_fn, checker: Checker) -> list[dict]:
    """``turn_fn(message) -> reply dict`` (kind, constraints, cards, answer). Returns one record per turn."""
    out, prev_ids, focus = [], [], None
    for i, t in enumerate(d["turns"]):
        exp = t.get("expect", {})
        try:
            r = turn_fn(t["text"])
        except Exception as exc:  # a failure is a failed turn, and the dialogue goes on
            out.append({"id": f"{d['id']}#{i + 1}", "text": t["text"], "tags": t.get("tags", []), "ok": False,
                        "errors": [f"error: {exc}"]})
            continue
        ids = [c["id"] for c in r.get("cards", [])]
        errs = []
        if "kind" in exp and r.get("kind") != exp["kind"]:
            errs.append(f"kind: expected {exp['kind']}, got {r.get('kind')}")
        state = state_dict(r.get("constraints") or {})
        errs += checker.constraint_errors(exp, state, strict=False)
        if exp.get("kind") in ("search", "refine"):
            errs += checker.absent_errors(exp, r.get("matched"))
        if r.get("kind") in ("search", "refine") and exp.get("kind") in ("search", "refine") \
                and not exp.get("absent"):
            shown = {k: v for k, v in exp.items() if k in ("category", "price_min", "price_max", "price_approx",
                                                             "currency", "exclude_brands", "brands")}
            errs += checker.card_errors(shown, ids, state)
        ref = exp.get("ref")
        target = None
        if ref is not None and prev_ids:
            refs = ref if isinstance(ref, list) else [ref]
            picked = []
            for x in refs:
                if x == "last":
                    picked.append(prev_ids[-1])
                elif x in ("cheapest", "priciest"):
                    priced = {p: checker.products[p].price or 0.0 for p in prev_ids}
                    best = (min if x == "cheapest" else max)(priced.values())
                    tied = [p for p, price in priced.items() if price == best]  # any of equals is right
                    picked.append(ids[0] if ids and ids[0] in tied else tied[0])
                elif isinstance(x, dict) and "with" in x:  # {"with": {key: value}}: the shown card that has it
                    having = [p for p in prev_ids                  # ("the red one", "the 65w one", "飞骋那双")
                              if all(_has(checker.products[p], k, v) for k, v in x["with"].items())]
                    if not having:
                        errs.append(f"no shown card has {x['with']}: the item cannot be asked")
                    else:  # any of equals is right
                        picked.append(next((p for p in ids if p in having), having[0]))
                elif isinstance(x, dict):  # {"max": key} / {"min": key}: the shown card with most / least of it
                    (way, key), = x.items()
                    valued = {p: n for p in prev_ids if (n := _number(checker.products[p].attributes.get(key)))
                              is not None}
                    if valued:
                        best = (max if way == "max" else min)(valued.values())
                        tied = [p for p, n in valued.items() if n == best]  # any of equals is right
                        picked.append(ids[0] if ids and ids[0] in tied else tied[0])
                elif isinstance(x, int) and x < len(prev_ids):
                    picked.append(prev_ids[x])
            if exp.get("kind") == "compare":
                if ids != picked:
                    errs.append(f"compare showed {ids}, expected {picked}")
            elif picked and ids[:1] != picked[:1]:
                errs.append(f"showed {ids[:1]}, expected {picked[:1]}")
            target = picked[0] if picked else None
        elif exp.get("kind") in ("question", "detail"):
            target = ids[0] if ids else focus
        if exp.get("cheaper") or exp.get("pricier"):
            prices = sorted(checker.products[p].price for p in prev_ids if checker.products[p].price is not None)
            if prices and ids:
                median = prices[len(prices) // 2]
                for p in ids:
                    price = checker.products[p].price or 0.0
                    if (exp.get("cheaper") and price >= median) or (exp.get("pricier") and price <= median):
                        errs.append(f"card {p} at {price:g} not {'below' if exp.get('cheaper') else 'above'} "
                                    f"the median {median:g}")
                        break
        if "other" in exp and focus:  # "a different brand", "有别的颜色吗": none of the new cards shares it with the
            key = exp["other"]         # card the conversation was on (the first card of the turn before)
            was = checker.products[focus]
            have = was.brand if key == "brand" else was.attributes.get(key)
            same = [p for p in ids if p == focus or (have is not None and (
                checker.products[p].brand if key == "brand" else checker.products[p].attributes.get(key)) == have)]
            if not ids:
                errs.append("no other products shown")
            elif same:
                errs.append(f"card {same[0]} has the same {key} {have!r}")
        for way in ("more", "less"):  # "got anything bigger?": every new card has more (less) of it than the median
            if way not in exp:     # of the cards shown before
                continue
            key = exp[way]
            before = sorted(n for p in prev_ids if (n := _number(checker.products[p].attributes.get(key))) is not None)
            if not before or not ids:
                errs.append(f"no cards to compare {key} with")
                continue
            median = before[len(before) // 2]
            cat = exp.get("category") or ""
            beyond = [p for p, prod in checker.products.items() if " > ".join(prod.category).startswith(cat)
                      and (n := _number(prod.attributes.get(key))) is not None and (n > median if way == "more"
                                                                                    else n < median)]
            if not beyond:
                continue  # nothing of the kind has more: the cards cannot, and the reply says so
            for p in ids:
                n = _number(checker.products[p].attributes.get(key))
                if n is None or (n <= median if way == "more" else n >= median):
                    errs.append(f"card {p} with {key} {checker.products[p].attributes.get(key)} not "
                                f"{'above' if way == 'more' else 'below'} the median {median:g}")
                    break
        if "like" in exp:  # products like a shown one: others than it, of its kind (and below its price)
            want = exp["like"]
            if isinstance(want, dict):  # {"with": {...}}: the first shown card that has it ("like the grey ones")
                like = next((p for p in prev_ids
                             if all(_has(checker.products[p], k, v) for k, v in want["with"].items())), None)
            else:
                like = focus if want == "focus" else prev_ids[want] if want < len(prev_ids) else None
            if like is None or not ids:
                errs.append("no products like the one referred to")
            else:
                ref_p = checker.products[like]
                if like in ids:
                    errs.append(f"showed {like} itself among products like it")
                errs += [f"card {p} not of the kind of {like}" for p in ids
                         if checker.products[p].category != ref_p.category][:1]
                if exp.get("below_ref"):
                    errs += [f"card {p} at {checker.products[p].price:g} not below {ref_p.price:g}" for p in ids
                             if (checker.products[p].price or 0.0) >= (ref_p.price or 0.0)][:1]
        if "not_ref" in exp and exp["not_ref"] < len(prev_ids) and prev_ids[exp["not_ref"]] in ids:
            errs.append(f"showed {prev_ids[exp['not_ref']]} again, which the shopper turned down")  # "not that one"
        if exp.get("not_shown"):  # "next page", "show me different ones": none of the cards shown before
            again = [p for p in ids if p in prev_ids]
            errs += [f"showed {again[0]} again"] if again else ["no other products shown"] if not ids else []
        if "answer" in exp:
            errs += checker.answer_errors(exp["answer"], target, r.get("answer") or [])
            if exp.get("answer_only"):  # nothing else was asked: no answer about another property
                errs += [f"answered {a.get('key')} too, which was not asked" for a in r.get("answer") or []
                         if a.get("key") != exp["answer"]][:1]
        if "reply_lang" in exp:
            titles = [c.get("title") or "" for c in r.get("cards", [])]
            errs += checker.language_errors(exp["reply_lang"], r.get("text") or "", titles)
        out.append({"id": f"{d['id']}#{i + 1}", "text": t["text"], "tags": t.get("tags", []), "ok": not errs,
                    "errors": errs, "kind": r.get("kind"), "reply": (r.get("text") or "")[:200]})
        if r.get("kind") in ("search", "refine") or (r.get("kind") == "reset"):
            prev_ids = ids
        if ids:
            focus = ids[0]
    return out


# ---------------------------------------------------------------- paths

def library_path(home: Path, utterances: list[dict], dialogues: list[dict],
                 encoder: str = "e5-multilingual") -> tuple[list[dict], dict]:
    from daogou.catalog.store import Store
    from daogou.config import StoreConfig
    from daogou.search.query import parse_query
    from daogou.serve.services import EventLog, build_services, default_bundle
    from daogou.serve.settings import ServeSettings

    store = Store.open(StoreConfig(home=home))
    if encoder == "e5-static":  # the static student, distilled on this store (daogou distill)
        from search import resolve_encoder
        encoder = resolve_encoder(encoder, store)
    settings = ServeSettings(home=home, llm_backend="template", encoder=encoder)
    services = build_services(store, settings, default_bundle(settings), EventLog(store))
    searcher, assistant = services.searcher, services.assistant
    import gc
    gc.collect()
    gc.freeze()  # as `daogou serve` does after start-up: the loaded models are not rescanned by every collection
    checker = Checker({p.id: p for p in searcher.products}, searcher.rates, searcher.vocab.currency or "CNY")
    records, times = [], []
    for u in utterances:  # understanding alone, each message for the first time, one after another
        t0 = time.perf_counter()
        parse_query(u["text"], searcher.vocab, rates=searcher.rates)
        times.append((time.perf_counter() - t0) * 1000)
    for u in utterances:
        absent = u["expect"].get("absent")
        res = searcher.search(u["text"], k=6, facets=False)
        pq = res.parsed or parse_query(u["text"], searcher.vocab, rates=searcher.rates)  # what the search understood
        errs = checker.constraint_errors(u["expect"], parsed_dict(pq), strict=not absent)
        errs += checker.absent_errors(u["expect"], getattr(res, "matched", None))
        if not absent:
            errs += checker.card_errors(u["expect"], res.ids())
        records.append({"id": u["id"], "text": u["text"], "tags": u["tags"], "ok": not errs, "errors": errs})
    for d in dialogues:
        conv = assistant.start(f"bench-{d['id']}", d.get("lang", "en"))
        records += play_dialogue(d, lambda m, conv=conv: assistant.reply(conv, m).to_dict(), checker)
    again = []
    for u in utterances:  # the same messages again: the per-word caches (jieba, pinyin, typos) are warm
        t0 = time.perf_counter()
        parse_query(u["text"], searcher.vocab, rates=searcher.rates)
        again.append((time.perf_counter() - t0) * 1000)
    times.sort()
    again.sort()
    timing = {"understand_ms_p50": round(statistics.median(times), 3),
              "understand_ms_p99": round(times[int(0.99 * (len(times) - 1))], 3),
              "understand_ms_p50_warm": round(statistics.median(again), 3),
              "understand_ms_p99_warm": round(again[int(0.99 * (len(again) - 1))], 3), "messages": len(times)}
    store.close() if hasattr(store, "close") else None
    return records, timing


def http_path(home: Path, utterances: list[dict], dialogues: list[dict], products: dict, rates: dict,
              currency: str) -> list[dict]:
    import httpx
    from serve import Server
    log = RESULTS / "understanding_server.log"
    server = Server(home, "template", log)
    checker = Checker(products, rates, currency)
    records = []
    try:
        with httpx.Client(base_url=server.base, timeout=60) as c:
            for u in utterances:
                r = c.get("/v1/search", params={"q": u["text"], "k": 6})
                if r.status_code != 200:
                    records.append({"id": u["id"], "text": u["text"], "tags": u["tags"], "ok": False,
                                    "errors": [f"HTTP {r.status_code}: {r.text[:200]}"]})
                    continue
                body = r.json()
                parsed = body.get("parsed") or {}
                got = {"categories": parsed.get("categories") or [], "brands": parsed.get("brands") or [],
                       "exclude_brands": parsed.get("exclude_brands") or [],
                       "attributes": parsed.get("attributes") or {},
                       "exclude_attributes": parsed.get("exclude_attributes") or {}, "sort": parsed.get("sort"),
                       "price_min": parsed.get("price_min"), "price_max": parsed.get("price_max")}
                absent = u["expect"].get("absent")
                errs = checker.constraint_errors(u["expect"], got, strict=not absent)
                errs += checker.absent_errors(u["expect"], body.get("matched"))
                if not absent:
                    errs += checker.card_errors(u["expect"], [h["id"] for h in body.get("hits", [])])
                records.append({"id": u["id"], "text": u["text"], "tags": u["tags"], "ok": not errs, "errors": errs})
            for d in dialogues:
                token = c.post("/v1/auth/guest").json()["token"]
                headers = {"Authorization": f"Bearer {token}"}
                conv: dict = {"id": None}

                def turn(message: str, headers=headers, conv=conv) -> dict:
                    r = c.post("/v1/chat", json={"message": message, "conversation_id": conv["id"]}, headers=headers)
                    if r.status_code != 200:
                        raise RuntimeError(f"HTTP {r.status_code}: {r.text[:200]}")
                    body = r.json()
                    conv["id"] = body["conversation_id"]
                    return body
                records += play_dialogue(d, turn, checker)
    finally:
        server.close()
    return records


# ---------------------------------------------------------------- report

def rates_by_tag(records: list[dict]) -> dict[str, dict]:
    by: dict[str, list[bool]] = defaultdict(list)
    for r in records:
        for tag in r["tags"] or ["untagged"]:
            by[tag].append(r["ok"])
        lang = "zh" if r["id"].startswith(("zh", "dzh")) else "mixed" if r["id"].startswith("mx") else "en"
        by[f"lang:{lang}"].append(r["ok"])
        by["kind:dialogue-turn" if "#" in r["id"] else "kind:utterance"].append(r["ok"])
    return {t: {"n": len(v), "passed": sum(v), "rate": round(sum(v) / len(v), 4)} for t, v in sorted(by.items())}


def table(results: dict[str, list[dict]]) -> str:
    paths = list(results)
    tags = sorted({t for recs in results.values() for t in rates_by_tag(recs)}, key=lambda t: (":" in t, t))
    per = {p: rates_by_tag(r) for p, r in results.items()}
    lines = ["| phenomenon | n | " + " | ".join(paths) + " |", "|---|---:|" + "---:|" * len(paths)]
    for t in tags:
        n = max(per[p].get(t, {}).get("n", 0) for p in paths)
        cells = [f"{100 * per[p][t]['rate']:.1f}%" if t in per[p] else "–" for p in paths]
        lines.append(f"| {t} | {n} | " + " | ".join(cells) + " |")
    overall = [f"**{100 * sum(r['ok'] for r in results[p]) / max(1, len(results[p])):.1f}%**" for p in paths]
    lines.append(f"| **overall** | {max(len(r) for r in results.values())} | " + " | ".join(overall) + " |")
    return "\n".join(lines)


def table_from(results: dict) -> str:
    """The README's table, from a results file (phenomena with their item counts, a column per path)."""
    paths = list(results["paths"])
    tags = sorted({t for p in paths for t in results["paths"][p]["by_tag"]}, key=lambda t: (":" in t, t))
    lines = ["| phenomenon | items | " + " | ".join(paths) + " |", "|---|---:|" + "---:|" * len(paths)]
    for t in tags:
        cells = [results["paths"][p]["by_tag"].get(t) for p in paths]
        n = max(c["n"] for c in cells if c)
        lines.append(f"| {t} | {n} | " + " | ".join(f"{100 * c['rate']:.1f}%" if c else "–" for c in cells) + " |")
    lines.append(f"| **overall** | {max(results['paths'][p]['n'] for p in paths)} | "
                 + " | ".join(f"**{100 * results['paths'][p]['overall']:.1f}%**" for p in paths) + " |")
    t = results["timing"]
    lines.append(f"\nQuery understanding ({t['messages']} messages, one at a time): first sight p50 "
                 f"{t['understand_ms_p50']} ms / p99 {t['understand_ms_p99']} ms; seen before p50 "
                 f"{t['understand_ms_p50_warm']} ms / p99 {t['understand_ms_p99_warm']} ms.")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--home", type=Path, default=ROOT / "bench" / ".work" / "understanding")
    ap.add_argument("--paths", default="library,http")
    ap.add_argument("--subset", type=int, default=None)
    ap.add_argument("--set", dest="folder", type=Path, default=SET,
                    help="folder of utterances_*.jsonl / dialogues_*.jsonl (default: bench/understanding)")
    ap.add_argument("--out", type=Path, default=RESULTS / "understanding.json")
    ap.add_argument("--table", type=Path, default=None, help="print the table of a results file and stop")
    ap.add_argument("--encoder", default="e5-multilingual",
                    help="the search encoder of the library path (e5-static: distilled on the home first)")
    args = ap.parse_args()
    if args.table:
        print(table_from(json.loads(args.table.read_text(encoding="utf-8"))))
        return
    RESULTS.mkdir(parents=True, exist_ok=True)
    from serve import ensure_demo  # bench/serve.py: builds the demo home (daogou demo --no-serve) when missing
    ensure_demo(args.home)
    utterances, dialogues = load(args.subset, args.folder)
    paths = [p.strip() for p in args.paths.split(",") if p.strip()]
    results, timing = {}, {}
    t0 = time.perf_counter()
    if "library" in paths or "http" in paths:
        lib, timing = library_path(args.home, utterances, dialogues, args.encoder)
        if "library" in paths:
            results["library"] = lib
    if "http" in paths:
        from daogou.catalog.store import Store
        from daogou.config import StoreConfig
        from daogou.search.engine import store_rates
        store = Store.open(StoreConfig(home=args.home))
        products = {p.id: p for p in store.iter_products()}
        currency = next((p.currency for p in products.values() if p.currency), "CNY")
        results["http"] = http_path(args.home, utterances, dialogues, products, store_rates(store), currency)
    print(table(results))
    print(f"\nquery understanding over {timing.get('messages')} messages: first sight p50 "
          f"{timing.get('understand_ms_p50')} ms, p99 {timing.get('understand_ms_p99')} ms; seen before p50 "
          f"{timing.get('understand_ms_p50_warm')} ms, p99 {timing.get('understand_ms_p99_warm')} ms")
    out = {"benchmark": "understanding", "encoder": args.encoder, "set": {"utterances": len(utterances), "dialogues": len(dialogues),
                                                 "dialogue_turns": sum(len(d["turns"]) for d in dialogues)},
           "meta": machine(),
           "machine": {"python": platform.python_version(), "platform": platform.platform(),
                       "cpus": os.cpu_count()},
           "seconds": round(time.perf_counter() - t0, 1), "timing": timing,
           "paths": {p: {"overall": round(sum(r["ok"] for r in recs) / max(1, len(recs)), 4), "n": len(recs),
                         "by_tag": rates_by_tag(recs), "failures": [r for r in recs if not r["ok"]]}
                     for p, recs in results.items()}}
    if args.subset is None:
        args.out.write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
