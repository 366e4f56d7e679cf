"""Exchange rates for amounts a shopper says in another currency than the catalog's.

The table gives the value of one unit of each currency in a common unit (here: Chinese yuan). It is stated, not
fetched: a store sets its own with ``HOME/currency.json`` (``{"USD": 7.2, ...}``, read by :func:`load_rates`), and
every conversion is said in the reply ("prices here are in ¥; $80 ≈ ¥576").
"""

from __future__ import annotations

import json
from pathlib import Path

from daogou.errors import ValidationError

DEFAULT_RATES: dict[str, float] = {"CNY": 1.0, "USD": 7.2, "EUR": 7.8, "GBP": 9.1, "HKD": 0.92, "JPY": 0.048}


def load_rates(path: Path) -> dict[str, float]:
    """The default table, overridden by the file at ``path`` when it exists (a JSON object of positive numbers)."""
    if not path.exists():
        return dict(DEFAULT_RATES)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError(str(path), f"not a JSON object of rates: {exc}") from None
    if not isinstance(data, dict):
        raise ValidationError(str(path), "expected a JSON object {currency: rate}")
    rates = dict(DEFAULT_RATES)
    for code, rate in data.items():
        if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not rate > 0:
            raise ValidationError(f"{path}: {code}", f"rate must be a positive number, got {rate!r}")
        rates[str(code).upper()] = float(rate)
    return rates
