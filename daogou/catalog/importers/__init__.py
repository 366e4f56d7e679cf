"""Importers, one module per family of formats; importing this package registers the built-ins."""

from daogou.catalog.importers import events, products, recbole, seed_csv, sequences  # noqa: F401
from daogou.catalog.importers.base import (ImportOptions, Importer, Record, Reject, get_importer, importer_names,
                                           register_importer)
from daogou.catalog.importers.runner import ImportReport, run_import

__all__ = ["ImportOptions", "ImportReport", "Importer", "Record", "Reject", "get_importer", "importer_names",
           "register_importer", "run_import"]
