"""``products``: a catalog as CSV / TSV / JSON lines / Parquet.

Default column names work with no options (``id, title, description, brand, price, currency, category,
image, language, in_stock, attributes``, plus common aliases); other layouts map columns with
``--map title=product_name`` (several columns for a category path: ``--map category=cat,subcat``) or a
mapping file. Columns nobody mapped become product attributes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from daogou.catalog.importers.base import ColumnPlan, ImportOptions, Record, Row, TableImporter
from daogou.catalog.models import (Product, check_text, clean_currency, clean_id, clean_language, parse_bool,
                                   parse_category, parse_price, validate_product)
from daogou.errors import ValidationError

FIELDS: dict[str, tuple[str, ...]] = {
    "id": ("product_id", "item_id", "sku", "asin"),
    "title": ("name", "product_name", "product_title"),
    "description": ("product_description", "desc"),
    "brand": ("manufacturer", "brand_name"),
    "price": ("price_amount",),
    "currency": ("price_currency",),
    "category": ("category_path", "categories"),
    "image": ("image_url", "image_path", "img"),
    "language": ("lang", "locale"),
    "in_stock": ("stock", "available", "availability"),
    "attributes": ("attrs",),
    "translations": (),
}


def product_of_row(cells: Sequence[Any], plan: ColumnPlan, options: ImportOptions) -> Product:
    """Build a validated product from one row's cells; raises ValidationError naming the bad field."""
    get = lambda name: plan.get(cells, name)  # noqa: E731
    price, currency = parse_price(get("price"), options.currency)
    explicit_currency = get("currency")
    if explicit_currency not in (None, ""):
        currency = clean_currency(explicit_currency)
    category = get("category")
    if isinstance(category, list):  # several columns make one path
        category = [c for c in category if c not in (None, "")]
    attributes = _attributes(get("attributes"))
    for i in plan.extras:
        col, val = plan.names[i], cells[i]
        if val not in (None, ""):
            attributes.setdefault(col, check_text(val, col) if isinstance(val, str) else val)
    product = Product(
        id=clean_id(get("id"), "id"), title=_text(get("title"), "title"),
        description=_text(get("description"), "description"), category=parse_category(category),
        brand=_text(get("brand"), "brand"), price=price, currency=currency, attributes=attributes,
        image=_text(get("image"), "image"), language=clean_language(get("language") or options.language),
        in_stock=parse_bool(get("in_stock"), "in_stock"), translations=_translations(get("translations")))
    return validate_product(product)


def _text(value: Any, name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        value = " ".join(str(v) for v in value if v not in (None, ""))
    return check_text(str(value).strip(), name)


def _attributes(value: Any) -> dict[str, Any]:
    if value in (None, ""):
        return {}
    if isinstance(value, dict):
        return dict(value)
    try:
        parsed = json.loads(value)
    except (TypeError, json.JSONDecodeError):
        raise ValidationError("attributes", "not a JSON object") from None
    if not isinstance(parsed, dict):
        raise ValidationError("attributes", "not a JSON object")
    return parsed


def _translations(value: Any) -> dict[str, dict[str, str]]:
    parsed = _attributes(value) if value not in (None, "") else {}
    for lang, texts in parsed.items():
        clean_language(lang)
        if not isinstance(texts, dict):
            raise ValidationError("translations", f"{lang}: expected {{title, description}}")
    return parsed


class ProductsImporter(TableImporter):
    name = "products"
    fields = FIELDS

    def record(self, row: Row, plan: ColumnPlan, options: ImportOptions) -> Record:
        return Record(row.line, products=(product_of_row(row.cells, plan, options),))
