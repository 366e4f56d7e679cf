"""Catalog: the data model, the store, importers, the embedded demo store and evaluation splits.

Imports nothing else of daogou; every later stage reads from here.
"""

from daogou.catalog.models import EVENT_TYPES, Event, Product, Shopper
from daogou.catalog.store import Store

__all__ = ["EVENT_TYPES", "Event", "Product", "Shopper", "Store"]
