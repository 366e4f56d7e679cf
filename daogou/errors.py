"""Typed errors raised by the library. Only the CLI and the HTTP layer translate them for people."""

from __future__ import annotations


class DaogouError(Exception):
    """Base class of every error daogou raises on purpose."""


class ConfigError(DaogouError):
    """A setting is missing or invalid (home directory, database URL, option value)."""


class StoreError(DaogouError):
    """The store cannot be opened, migrated or written."""


class StoreFull(StoreError):
    """The disk under the store (or its home directory) is full. What was committed before is kept."""


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) says there is no space left: ENOSPC, SQLite's "database or disk is full",
    PostgreSQL's disk-full class (SQLSTATE 53100)."""
    import errno
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        text = str(exc).lower()
        if "database or disk is full" in text or "no space left on device" in text \
                or getattr(exc, "sqlstate", None) == "53100":
            return True
        exc = exc.__cause__ or exc.__context__ or getattr(exc, "orig", None)
    return False


class MigrationError(StoreError):
    """The database schema is unknown, newer than this version, or a migration failed."""


class ValidationError(DaogouError):
    """One value failed validation. ``field`` names it; ``reason`` says why."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class ImportFailed(DaogouError):
    """A whole import failed (unreadable file, unknown format, bad options). Row problems are rejects, not this."""


class UnknownNameError(DaogouError):
    """A registry was asked for a name it does not hold."""

    def __init__(self, kind: str, name: str, known: list[str]):
        super().__init__(f"unknown {kind} {name!r}; known: {', '.join(sorted(known)) or 'none'}")
        self.kind = kind
        self.name = name
        self.known = sorted(known)


class GenerationError(DaogouError):
    """Text generation failed: a backend cannot be loaded or reached, or a request is invalid."""


class ImageError(DaogouError):
    """One product image cannot be used (missing, too large, corrupt, not an image). ``path`` and ``reason`` say why."""

    def __init__(self, path: str, status: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.status = status
        self.reason = reason


class NotFoundError(DaogouError):
    """A product, shopper, conversation or bundle asked for does not exist (or is not the caller's to see)."""

    def __init__(self, kind: str, key: str):
        super().__init__(f"no {kind} {key!r}")
        self.kind = kind
        self.key = key


class AccessDenied(DaogouError):
    """Missing, invalid or expired credentials, or a request for something the caller may not touch."""


class ClusterError(DaogouError):
    """A run on a Ray cluster (distributed training, batch encoding) failed or returned incomplete results."""
