"""English → 中文 words for attribute names and common attribute values, so copy in Chinese reads naturally.

Values come from the demo store's bilingual vocabulary plus general shop words; a value without an entry is kept
as written (model numbers, sizes such as 256GB read the same in both languages).
"""

from __future__ import annotations

from functools import lru_cache

from daogou.catalog import demo_vocab as V

KEYS_ZH = {
    "color": "颜色", "colour": "颜色", "material": "材质", "size": "尺码", "brand": "品牌", "price": "价格",
    "capacity": "容量", "storage": "存储", "ram": "运行内存", "battery": "续航", "power": "功率", "ports": "接口",
    "noise_cancelling": "主动降噪", "cushioning": "缓震", "waterproof": "防水", "length": "裙长", "sleeve": "袖长",
    "fit": "版型", "pack": "包装", "height": "袜筒", "feature": "特点", "dishwasher_safe": "可洗碗机清洗",
    "pieces": "件数", "skin_type": "适用肤质", "hair_type": "适用发质", "grip": "防滑", "age": "适用年龄",
    "weight": "重量", "dimensions": "尺寸", "in_stock": "库存", "rating": "评分",
}

_GENERAL_ZH = {"yes": "是", "no": "否", "all": "所有", "gray": "灰色", "unisex": "男女通用", "men": "男款",
               "women": "女款", "kids": "儿童"}


@lru_cache(maxsize=1)
def values_zh() -> dict[str, str]:
    table = dict(_GENERAL_ZH)
    table.update({k: v[0] for k, v in V.COLOURS.items()})
    table.update(V.MATERIALS)
    table.update(V.SIZES_ZH)
    return {k.lower(): v for k, v in table.items()}


@lru_cache(maxsize=1)
def spec_values_zh() -> dict[tuple[str, str], str]:
    """Values whose translation depends on the attribute, e.g. (noise_cancelling, yes) → 主动降噪."""
    return {(key, value.lower()): zh for key, spec in V.SPECS.items() for value, zh in spec["zh"].items()}


def key_zh(key: str) -> str:
    return KEYS_ZH.get(key.lower(), key.replace("_", " "))


def value_zh(key: str, value: str) -> str:
    low = value.lower()
    return spec_values_zh().get((key.lower(), low)) or values_zh().get(low) or value


def brand_aliases(brand: str) -> tuple[str, ...]:
    """Other spellings of a brand (its Chinese name where known)."""
    zh = V.BRANDS_ZH.get(brand)
    return (zh,) if zh else ()


KEYS_EN = {"ram": "RAM", "noise_cancelling": "noise cancelling", "dishwasher_safe": "dishwasher safe"}
# Attributes that describe a product best come first in copy.
PRIORITY = ("color", "colour", "material", "size", "capacity", "storage", "ram", "battery", "power", "pieces",
            "age")


def key_en(key: str) -> str:
    return KEYS_EN.get(key.lower(), key.replace("_", " "))


def order(key: str) -> tuple[int, str]:
    low = key.lower()
    return (PRIORITY.index(low) if low in PRIORITY else len(PRIORITY), low)
