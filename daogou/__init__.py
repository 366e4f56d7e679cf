"""daogou (导购): a self-hosted AI shopping guide.

The main path follows the data: ``catalog`` (store, importers, demo, splits) feeds everything else.
"""

__version__ = "0.1.0"
