"""Search: understand the shopper's query and retrieve from the catalog (lexical + dense + hybrid, filters).

Imports only ``catalog`` and ``encode``. Main entry: ``Searcher.build(store).search(query, k, filters)``.
"""

from daogou.search.engine import Hit, SearchConfig, Searcher, SearchResults
from daogou.catalog.filters import CatalogTable, Filters
from daogou.search.query import ParsedQuery, parse_query
from daogou.search.vocab import Vocabulary

__all__ = ["CatalogTable", "Filters", "Hit", "ParsedQuery", "SearchConfig", "SearchResults", "Searcher",
           "Vocabulary", "parse_query"]
