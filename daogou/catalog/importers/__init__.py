"""Importers, one module per family of formats, registered by name in :data:`IMPORTERS`."""

from daogou.catalog.importers.base import IMPORTERS, ImportOptions, Importer, Record, Reject, get_importer
from daogou.catalog.importers.runner import ImportReport, run_import

__all__ = ["IMPORTERS", "ImportOptions", "ImportReport", "Importer", "Record", "Reject", "get_importer", "run_import"]
