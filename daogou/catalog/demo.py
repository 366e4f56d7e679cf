"""The embedded demo store: a deterministic synthetic shop with planted, known patterns.

:func:`generate_demo` makes products (English and Chinese text, images), shoppers and their event history. The
shoppers follow hidden preferences (categories, a favourite brand per category, a price level, a colour taste), some
product pairs are bought one after the other, and about a quarter of the products show their colour only in their
image. :class:`DemoTruth` exposes all of it, so search, recommendation and chat can be tested against known answers.

Everything comes from ``random.Random(config.seed)``: the same seed gives the same store, byte for byte.
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path

from daogou.catalog import demo_vocab as V
from daogou.catalog.demo_images import draw_product_image
from daogou.catalog.models import Event, Product, Shopper, validate_event, validate_product
from daogou.errors import ConfigError

BANDS = ("budget", "mid", "premium")
START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
DAY_MS = 86_400_000
SPAN_DAYS = 60
P_HIDDEN = 0.27      # products whose colour shows only in the image
P_ZH = 0.25          # products whose primary language is Chinese
P_OUT_OF_STOCK = 0.05
P_PREF_CAT = 0.8     # session in a preferred category
P_BRAND = 0.65       # viewed product of the favourite brand (preferred categories)
P_PRICE = 0.7        # viewed product in the shopper's price band
P_COLOUR = 0.75      # viewed product in the shopper's colour (when it has a taste)
P_BUY = 0.6          # session ends in a purchase
P_BEST = 0.85        # the purchase is the viewed product that fits the preferences best
P_FOLLOW = 0.85      # buying a co-purchase "a" leads to buying its "b" in a later session


@dataclass(frozen=True)
class DemoConfig:
    seed: int = 0
    n_products: int = 2000
    n_shoppers: int = 1000
    image_size: int = 64
    currency: str = "CNY"


@dataclass
class ShopperTruth:
    shopper_id: str
    language: str
    categories: list[str]
    brands: dict[str, str]
    price_level: str
    colour: str | None


@dataclass
class DemoTruth:
    seed: int
    shoppers: dict[str, ShopperTruth]
    co_purchase: list[tuple[str, str]]
    hidden_colour: dict[str, str]
    price_bands: dict[str, tuple[float, float]]
    vocabulary: dict[str, dict[str, str]]

    def to_dict(self) -> dict:
        d = asdict(self)
        d["co_purchase"] = [list(p) for p in self.co_purchase]
        d["price_bands"] = {k: list(v) for k, v in self.price_bands.items()}
        return d

    @classmethod
    def from_dict(cls, d: dict) -> DemoTruth:
        return cls(seed=int(d["seed"]),
                   shoppers={k: ShopperTruth(**v) for k, v in d["shoppers"].items()},
                   co_purchase=[(str(a), str(b)) for a, b in d["co_purchase"]],
                   hidden_colour=dict(d["hidden_colour"]),
                   price_bands={k: (float(v[0]), float(v[1])) for k, v in d["price_bands"].items()},
                   vocabulary={k: dict(v) for k, v in d["vocabulary"].items()})

    def band_of(self, category: str, price: float) -> str:
        """The price band ("budget" | "mid" | "premium") of ``price`` in ``category`` ("Top > Leaf")."""
        b1, b2 = self.price_bands[category]
        return "budget" if price <= b1 else "mid" if price <= b2 else "premium"


@dataclass
class DemoData:
    products: list[Product]
    shoppers: list[Shopper]
    events: list[Event]
    truth: DemoTruth


@dataclass(eq=False)
class _Item:
    """A product plus what generation knows about it."""
    product: Product
    cat: str
    noun: str
    brand: str
    colour: str
    band: str
    pop: float


# ---------------------------------------------------------------- products

def _cat_key(spec: dict) -> str:
    return " > ".join(spec["path"])


def _cap(text: str) -> str:
    return " ".join(w[:1].upper() + w[1:] for w in text.split(" "))


def _band_of(price: float, bounds: tuple) -> str:
    return "budget" if price <= bounds[1] else "mid" if price <= bounds[2] else "premium"


def _price(rng: random.Random, bounds: tuple, band: str) -> float:
    lo, b1, b2, hi = bounds
    a, b = {"budget": (lo, b1), "mid": (b1, b2), "premium": (b2, hi)}[band]
    raw = math.exp(rng.uniform(math.log(a), math.log(b)))
    p = round(raw / 10) * 10 - 1 if raw >= 100 else round(raw) - 0.1
    if band == "budget":
        p = min(max(p, lo), b1)
    elif band == "mid":
        p = min(max(p, b1 + 1), b2)
    else:
        p = min(max(p, b2 + 1), hi)
    return float(round(p, 2))


def _titles(rng: random.Random, spec: dict, brand: str, noun: tuple, colour: str | None, material: str,
            size: str, specs: dict) -> tuple[str, str]:
    use_mat = not spec.get("no_material_title") and rng.random() < 0.7
    size_en = spec["size_en"].format(size) if spec["size_en"] else ""
    size_zh = spec["size_zh"].format(V.SIZES_ZH.get(size, size)) if spec["size_zh"] else ""
    tail_en = [_cap(v) for k, v in specs.items() if V.SPECS[k]["title"]] + ([size_en] if size_en else [])
    tail_zh = [V.SPECS[k]["zh"].get(v, v) for k, v in specs.items() if V.SPECS[k]["title"]] + [size_zh]
    col_en = _cap(colour) if colour else ""
    mid_en = [_cap(material) if use_mat else "", noun[0]]
    pattern = rng.randrange(3)
    if pattern == 2 and colour:
        en = " ".join(x for x in [brand, *mid_en] if x) + ", " + ", ".join(tail_en + [col_en])
    else:
        head = " ".join(x for x in [brand, col_en, *mid_en] if x)
        en = head + (", " + ", ".join(tail_en) if tail_en and pattern == 0 else " " + " ".join(tail_en))
    col_zh = V.COLOURS[colour][0] if colour else ""
    words = [col_zh, V.MATERIALS[material] if use_mat else "", noun[1]]
    body = "".join(words) if rng.random() < 0.4 else " ".join(w for w in words if w)
    zh = " ".join(x for x in [V.BRANDS_ZH.get(brand, brand), body, *tail_zh] if x)
    return en.strip(), zh


def _descriptions(rng: random.Random, brand: str, colour: str | None, material: str, size: str,
                  specs: dict) -> tuple[str, str]:
    fill = {"brand": brand, "material": material, "Material": _cap(material), "size": size,
            "colour": colour or ""}
    fill_zh = {"brand": V.BRANDS_ZH.get(brand, brand), "material": V.MATERIALS[material],
               "size": V.SIZES_ZH.get(size, size), "colour": V.COLOURS[colour][0] if colour else ""}
    kinds = ["material"] + (["colour"] if colour else []) + (["size"] if size != "One Size" else []) + ["generic"]
    pool: list[tuple[str, str]] = []
    for kind in kinds:
        i = rng.randrange(len(V.SENT_EN[kind]))
        pool.append((V.SENT_EN[kind][i].format(**fill), V.SENT_ZH[kind][i % len(V.SENT_ZH[kind])].format(**fill_zh)))
    for k, v in specs.items():
        s = V.SPECS[k]
        pool.append((s["en"].format(v=v, V=v[:1].upper() + v[1:]), s["zh_s"].format(v=s["zh"].get(v, v))))
    chosen = sorted(rng.sample(range(len(pool)), rng.randint(1, min(3, len(pool)))))
    return " ".join(pool[i][0] for i in chosen), "".join(pool[i][1] for i in chosen)


def _make_item(rng: random.Random, spec: dict, cfg: DemoConfig) -> _Item:
    brand, noun = rng.choice(spec["brands"]), rng.choice(spec["nouns"])
    material = rng.choice(spec.get("noun_materials", {}).get(noun[0], spec["materials"]))
    size = rng.choice(spec["sizes"])
    specs = {k: rng.choice(vals) for k, vals in spec["specs"].items()}
    colour, band = rng.choice(list(V.COLOURS)), rng.choice(BANDS)
    price = _price(rng, spec["price"], band)
    shown = None if rng.random() < P_HIDDEN else colour
    t_en, t_zh = _titles(rng, spec, brand, noun, shown, material, size, specs)
    d_en, d_zh = _descriptions(rng, brand, shown, material, size, specs)
    cat_en = _cat_key(spec)
    cat_zh = f"{V.TOP_LEVELS[spec['path'][0]][0]} > {spec['leaf_zh']}"
    attrs = ({"color": shown} if shown else {}) | {"size": size, "material": material} | specs
    zh_first = rng.random() < P_ZH
    title, desc, lang = (t_zh, d_zh, "zh") if zh_first else (t_en, d_en, "en")
    other = {"en": {"title": t_en, "description": d_en, "category": cat_en}} if zh_first else \
        {"zh": {"title": t_zh, "description": d_zh, "category": cat_zh}}
    product = Product(id="", title=title, description=desc, category=tuple(spec["path"]), brand=brand,
                      price=price, currency=cfg.currency, attributes=attrs, language=lang,
                      in_stock=rng.random() >= P_OUT_OF_STOCK, translations=other)
    popularity = min(rng.paretovariate(1.5), 20.0)
    return _Item(product, cat_en, noun[0], brand, colour, _band_of(price, spec["price"]), popularity)


def _make_items(rng: random.Random, cfg: DemoConfig) -> list[_Item]:
    k = len(V.CATEGORIES)
    items = [_make_item(rng, spec, cfg) for i, spec in enumerate(V.CATEGORIES)
             for _ in range(cfg.n_products // k + (i < cfg.n_products % k))]
    for spec in V.CATEGORIES:  # every category keeps at least one product in stock
        mine = [it for it in items if it.cat == _cat_key(spec)]
        if not any(it.product.in_stock for it in mine):
            mine[0].product.in_stock = True
    rng.shuffle(items)
    for n, it in enumerate(items, 1):
        it.product.id = f"P{n:05d}"
        it.product.image = f"images/{it.product.id}.png"
        validate_product(it.product)
    return items


# ---------------------------------------------------------------- images

def _write_images(items: list[_Item], cfg: DemoConfig, image_dir: Path) -> None:
    image_dir.mkdir(parents=True, exist_ok=True)
    for n, it in enumerate(items):
        shape = V.TOP_LEVELS[it.product.category[0]][1]
        rng = random.Random(cfg.seed * 1_000_003 + n)
        draw_product_image(image_dir / f"{it.product.id}.png", shape, V.COLOURS[it.colour][1], cfg.image_size, rng)


# ---------------------------------------------------------------- shoppers and co-purchase pairs

def _make_shopper(rng: random.Random, sid: str, brands: dict[str, list[str]]) -> ShopperTruth:
    cats = rng.sample(list(brands), min(len(brands), 1 if rng.random() < 0.55 else 2))
    return ShopperTruth(shopper_id=sid, language="zh" if rng.random() < 0.5 else "en", categories=cats,
                        brands={c: rng.choice(brands[c]) for c in cats},
                        price_level=rng.choices(BANDS, weights=(0.35, 0.4, 0.25))[0],
                        colour=rng.choice(list(V.COLOURS)) if rng.random() < 0.4 else None)


def _make_pairs(rng: random.Random, by_cat: dict[str, list[_Item]]) -> list[tuple[_Item, _Item]]:
    leaf = {spec["path"][1]: _cat_key(spec) for spec in V.CATEGORIES}
    pairs, used = [], set()
    for cat_a, noun_a, cat_b, noun_b, count in V.CO_PURCHASE_RULES:
        cands = [it for it in by_cat[leaf[cat_a]] if it.product.in_stock and noun_a in (None, it.noun)]
        cands.sort(key=lambda it: -it.pop)
        bs = [it for it in by_cat[leaf[cat_b]] if it.product.in_stock and noun_b in (None, it.noun)]
        for a in [] if not bs else [it for it in cands if it.product.id not in used][:count]:
            same = [b for b in bs if b.product.brand == a.product.brand]
            b = rng.choice(same or bs)
            used.add(a.product.id)
            pairs.append((a, b))
    return pairs


def _vocabulary() -> dict[str, dict[str, str]]:
    cats: dict[str, str] = {}
    for spec in V.CATEGORIES:
        top, leaf = spec["path"]
        cats[top] = V.TOP_LEVELS[top][0]
        cats[leaf] = spec["leaf_zh"]
        cats[_cat_key(spec)] = f"{cats[top]} > {spec['leaf_zh']}"
    vocab = {"category": cats, "colour": {k: v[0] for k, v in V.COLOURS.items()}, "material": dict(V.MATERIALS),
             "brand": dict(V.BRANDS_ZH), "product_type": {n[0]: n[1] for s in V.CATEGORIES for n in s["nouns"]},
             "size": dict(V.SIZES_ZH), "price_level": {"budget": "平价", "mid": "中端", "premium": "高端"}}
    for spec in V.CATEGORIES:
        for key, vals in spec["specs"].items():
            vocab.setdefault(key, {}).update({v: V.SPECS[key]["zh"].get(v, v) for v in vals})
    return vocab


# ---------------------------------------------------------------- behaviour

@dataclass
class _Sim:
    """Plays out every shopper's sessions; events accumulate in ``events``."""
    rng: random.Random
    by_cat: dict[str, list[_Item]]
    follow: dict[str, _Item]
    bounds: dict[str, tuple]
    events: list[Event] = field(default_factory=list)

    def emit(self, st: ShopperTruth, sess: str, t: int, kind: str, it: _Item | None = None, query: str = "") -> None:
        self.events.append(Event(st.shopper_id, sess, t, kind, it.product.id if it else None, query))

    def pick(self, st: ShopperTruth, cat: str, seen: list[_Item]) -> _Item | None:
        """One product to view: each preference is followed or not by its own coin; a preference that no product
        left in the pool can satisfy is skipped. Brand and colour go first in random order, price last."""
        rng, pool, fav = self.rng, [it for it in self.by_cat[cat] if it not in seen], st.brands.get(cat)
        steps = [("brand", fav, rng.random() < P_BRAND)] if fav else []
        steps += [("colour", st.colour, rng.random() < P_COLOUR)] if st.colour else []
        if rng.random() < 0.5:
            steps.reverse()
        steps.append(("band", st.price_level, rng.random() < P_PRICE))
        for attr, value, want in steps:
            pool = [it for it in pool if (getattr(it, attr) == value) is want] or pool
        return rng.choices(pool, weights=[it.pop for it in pool])[0] if pool else None

    def query(self, st: ShopperTruth, cat: str, brand: str | None) -> str:
        rng, spec = self.rng, next(s for s in V.CATEGORIES if _cat_key(s) == cat)
        en, zh = rng.choice(spec["query"])
        zh_lang, b1 = st.language == "zh", self.bounds[cat][1]
        q = zh if zh_lang else en
        if st.colour and rng.random() < 0.5:
            q = f"{q} {V.COLOURS[st.colour][0]}" if zh_lang else f"{st.colour} {q}"
        if brand and rng.random() < 0.2:
            q = f"{V.BRANDS_ZH.get(brand, brand)} {q}" if zh_lang else f"{brand} {q}"
        if st.price_level == "budget" and rng.random() < 0.25:
            q = f"{q} {b1}元以内" if zh_lang else f"{q} under ¥{b1}"
        elif st.price_level == "premium" and rng.random() < 0.2:
            q = f"高端{q}" if zh_lang else f"premium {q}"
        return q

    def score(self, st: ShopperTruth, it: _Item) -> float:
        return (2.0 * (it.brand == st.brands.get(it.cat)) + 1.5 * (it.colour == st.colour)
                + 1.0 * (it.band == st.price_level) + 0.5 * self.rng.random())

    def browse(self, st: ShopperTruth, sess: str, t: int, views: list[_Item]) -> int:
        rng = self.rng
        for it in views:
            t += rng.randint(10, 120) * 1000
            if rng.random() < 0.3:
                self.emit(st, sess, t, "click", it)
                t += rng.randint(2, 8) * 1000
            self.emit(st, sess, t, "view", it)
        return t

    def buy(self, st: ShopperTruth, sess: str, t: int, it: _Item) -> int:
        if self.rng.random() < 0.85:
            t += self.rng.randint(5, 60) * 1000
            self.emit(st, sess, t, "cart", it)
        t += self.rng.randint(30, 300) * 1000
        self.emit(st, sess, t, "purchase", it)
        return t

    def session(self, st: ShopperTruth, sess: str, t: int) -> tuple[int, _Item | None]:
        rng = self.rng
        cat = st.categories[0] if len(st.categories) == 1 or rng.random() < 0.65 else st.categories[1]
        others = [c for c, its in self.by_cat.items() if its and c not in st.categories]
        if others and rng.random() >= P_PREF_CAT:
            cat = rng.choice(others)
        self.emit(st, sess, t, "search", query=self.query(st, cat, st.brands.get(cat)))
        views: list[_Item] = []
        for _ in range(rng.randint(2, 6)):
            views += filter(None, [self.pick(st, cat, views)])
        t = self.browse(st, sess, t, views)
        best = max(views, key=lambda it: self.score(st, it) + it.product.in_stock * 10)
        if rng.random() < 0.15:
            t += rng.randint(3, 30) * 1000
            self.emit(st, sess, t, "fav", best)
        stock = [it for it in views if it.product.in_stock]
        if stock and rng.random() < P_BUY:
            bought = best if rng.random() < P_BEST else rng.choice(stock)
            return self.buy(st, sess, t, bought), bought
        if rng.random() < 0.12:
            t += rng.randint(5, 60) * 1000
            self.emit(st, sess, t, "cart", rng.choice(views))
        return t, None

    def follow_up(self, st: ShopperTruth, sess: str, t: int, b: _Item) -> int:
        rng = self.rng
        self.emit(st, sess, t, "search", query=self.query(st, b.cat, b.product.brand))
        views = [b]
        for _ in range(rng.randint(1, 3)):
            views += filter(None, [self.pick(st, b.cat, views)])
        rng.shuffle(views)
        t = self.browse(st, sess, t, views)
        return self.buy(st, sess, t, b)

    def shopper(self, st: ShopperTruth) -> None:
        rng = self.rng
        starts = sorted(rng.randrange(SPAN_DAYS * DAY_MS) for _ in range(rng.randint(3, 8)))
        pending: list[_Item] = []
        triggered: set[str] = set()
        t, n = START_MS - DAY_MS, 0
        while n < len(starts) or pending:
            start = START_MS + starts[n] if n < len(starts) else t + rng.randint(1, 4) * DAY_MS
            t, n = max(start, t + rng.randint(20, 600) * 60_000), n + 1
            sess = f"{st.shopper_id}-s{n:02d}"
            if pending:
                b = pending.pop(0)
                t, bought = self.follow_up(st, sess, t, b), b
            else:
                t, bought = self.session(st, sess, t)
            b = self.follow.get(bought.product.id) if bought else None
            if b and bought.product.id not in triggered:
                triggered.add(bought.product.id)
                if rng.random() < P_FOLLOW:
                    pending.append(b)


# ---------------------------------------------------------------- entry point

def generate_demo(config: DemoConfig = DemoConfig(), image_dir: Path | None = None) -> DemoData:
    """Build the demo store. With ``image_dir``, also write ``<product id>.png`` there for every product."""
    if config.n_products < len(V.CATEGORIES) or config.n_shoppers < 0 or config.image_size < 8:
        raise ConfigError(f"demo store needs n_products >= {len(V.CATEGORIES)}, n_shoppers >= 0, image_size >= 8")
    rng = random.Random(config.seed)
    items = _make_items(rng, config)
    if image_dir is not None:
        _write_images(items, config, Path(image_dir))
    by_cat: dict[str, list[_Item]] = {_cat_key(s): [] for s in V.CATEGORIES}
    for it in items:
        by_cat[it.cat].append(it)
    brands = {c: sorted({it.product.brand for it in its if it.product.in_stock}) for c, its in by_cat.items()}
    brands = {c: bs for c, bs in brands.items() if bs}
    truths = [_make_shopper(rng, f"U{i:04d}", brands) for i in range(1, config.n_shoppers + 1)]
    pairs = _make_pairs(rng, by_cat)
    bounds = {_cat_key(s): s["price"] for s in V.CATEGORIES}
    sim = _Sim(rng, by_cat, {a.product.id: b for a, b in pairs}, bounds)
    for st in truths:
        sim.shopper(st)
    sim.events.sort(key=lambda e: e.ts_ms)
    for ev in sim.events:
        validate_event(ev)
    truth = DemoTruth(
        seed=config.seed, shoppers={st.shopper_id: st for st in truths},
        co_purchase=[(a.product.id, b.product.id) for a, b in pairs],
        hidden_colour={it.product.id: it.colour for it in items if "color" not in it.product.attributes},
        price_bands={c: (float(b[1]), float(b[2])) for c, b in bounds.items()}, vocabulary=_vocabulary())
    shoppers = [Shopper(st.shopper_id, {"language": st.language}) for st in truths]
    return DemoData([it.product for it in items], shoppers, sim.events, truth)
