import pytest

from daogou.catalog.models import (Event, Product, clean_id, parse_bool, parse_category, parse_price,
                                   parse_timestamp, validate_event, validate_product)
from daogou.errors import ValidationError


@pytest.mark.parametrize("text,expected", [
    ("£4.99", (4.99, "GBP")), ("$80", (80.0, "USD")), ("¥1,299.00", (1299.0, "CNY")), ("500元", (500.0, "CNY")),
    ("12,50 €", (12.5, "EUR")), ("1.299,50 EUR", (1299.5, "EUR")), ("7.25", (7.25, "GBP")), ("", (None, "GBP")),
    (19, (19.0, "GBP")),
])
def test_parse_price(text, expected):
    assert parse_price(text, "GBP") == expected


@pytest.mark.parametrize("bad", ["abc", "-5", "12.3.4.5x", "nan", "£", "5 zorkmids"])
def test_parse_price_rejects(bad):
    with pytest.raises(ValidationError) as err:
        parse_price(bad)
    assert err.value.field == "price"


def test_parse_timestamp_forms():
    assert parse_timestamp("1511544070") == 1_511_544_070_000
    assert parse_timestamp("1511544070123") == 1_511_544_070_123
    assert parse_timestamp("2026-01-02T03:04:05Z") == 1_767_323_045_000
    assert parse_timestamp("2026-01-02 03:04:05") == 1_767_323_045_000  # naive = UTC
    assert parse_timestamp("2026-01-02T11:04:05+08:00") == 1_767_323_045_000
    for bad in ("yesterday", "", "-5", "99999999999999999", "nan"):
        with pytest.raises(ValidationError):
            parse_timestamp(bad)


def test_clean_id():
    assert clean_id("  abc ", "id") == "abc"
    assert clean_id(12.0, "id") == "12"
    assert clean_id("商品-1", "id") == "商品-1"
    for bad in ("", "   ", None, "a\x00b", "x" * 300, 1.5):
        with pytest.raises(ValidationError):
            clean_id(bad, "id")
    with pytest.raises(ValidationError, match="encoding"):
        clean_id(b"caf\xe9".decode("utf-8", "surrogateescape"), "id")


def test_category_and_bool():
    assert parse_category("Shoes > Running") == ("Shoes", "Running")
    assert parse_category('["鞋", "跑鞋"]') == ("鞋", "跑鞋")
    assert parse_category(["A", "", "B"]) == ("A", "B")
    assert parse_bool("3 new", "in_stock") is True
    assert parse_bool("0", "in_stock") is False
    assert parse_bool("缺货", "in_stock") is False
    assert parse_bool("", "in_stock") is True
    with pytest.raises(ValidationError):
        parse_bool("maybe", "in_stock")


def test_event_rules():
    ev = validate_event(Event("u1", "s1", 1000, "search", None, "red shoes"))
    assert ev.product_id is None
    with pytest.raises(ValidationError, match="query"):
        validate_event(Event("u1", "s1", 1000, "search", None, ""))
    with pytest.raises(ValidationError, match="product"):
        validate_event(Event("u1", "s1", 1000, "view", None))
    with pytest.raises(ValidationError, match="type"):
        validate_event(Event("u1", "s1", 1000, "rate", "p1"))


def test_event_uid_is_content_identity():
    a = Event("u1", "s1", 1000, "view", "p1")
    assert a.uid() == Event("u1", "s1", 1000, "view", "p1").uid()
    assert a.uid() != Event("u1", "s1", 1001, "view", "p1").uid()
    assert a.uid(0) != a.uid(1)


def test_product_hash_tracks_content():
    p = Product("p1", title="Red shoe", price=10.0)
    same = Product("p1", title="Red shoe", price=10.0)
    assert p.content_hash() == same.content_hash()
    assert p.content_hash() != Product("p1", title="Red shoe", price=11.0).content_hash()
    with pytest.raises(ValidationError, match="language"):
        validate_product(Product("p1", language="english!"))
