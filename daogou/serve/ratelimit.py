"""Where rate-limit counts live: a `limits <https://limits.readthedocs.io>`_ storage chosen by URI.

``memory://`` (one process: the default with one worker), ``sqlite:///PATH`` (one machine, any number of worker
processes, no server: the default with several workers, at ``HOME/ratelimits.sqlite``), and whatever else ``limits``
knows — ``redis://``, ``redis+sentinel://``, ``memcached://``, ``mongodb://`` — for servers on several machines.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import urllib.parse
from pathlib import Path

from limits.storage import MovingWindowSupport, Storage

from daogou.errors import ConfigError

PRUNE_EVERY_S = 60.0


class SQLiteStorage(Storage, MovingWindowSupport):
    """A ``limits`` storage in one SQLite file (WAL mode) shared by every process that opens it: the worker
    processes of one server count against the same limits without a server of their own.

    Each hit is one short ``BEGIN IMMEDIATE`` transaction (count the key's entries inside the window, add one),
    so two processes never both take the last slot. Counts only protect against overload: the file is written
    without fsync (``synchronous=OFF``), and rows of windows that ended are deleted as hits go by and once a minute.
    """

    STORAGE_SCHEME = ["sqlite"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        self.path = sqlite_path(uri or "")
        self.busy_timeout_ms = int(float(options.get("busy_timeout_s", 5)) * 1000)
        self._local = threading.local()
        self._pruned = 0.0
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._tx() as c:
            c.execute("CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, value INTEGER NOT NULL, "
                      "expires REAL NOT NULL) WITHOUT ROWID")
            c.execute("CREATE TABLE IF NOT EXISTS entries (key TEXT NOT NULL, ts REAL NOT NULL, expires REAL NOT NULL)")
            c.execute("CREATE INDEX IF NOT EXISTS entries_key_ts ON entries (key, ts)")

    @property
    def base_exceptions(self) -> type[Exception]:
        return sqlite3.Error

    # ------------------------------------------------------------------ connections
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:  # one per thread: the event loop's, and the threadpool's for sync routes
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout_ms / 1000, isolation_level=None)
            conn.execute(f"PRAGMA busy_timeout={self.busy_timeout_ms}")
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=OFF")
            self._local.conn = conn
        return conn

    def _tx(self):
        return _Immediate(self._conn())

    # ------------------------------------------------------------------ fixed window (counters)
    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        with self._tx() as c:
            row = c.execute("SELECT value, expires FROM counters WHERE key = ?", (key,)).fetchone()
            if row is None or row[1] <= now:
                value = amount
                c.execute("INSERT OR REPLACE INTO counters (key, value, expires) VALUES (?, ?, ?)",
                          (key, value, now + expiry))
            else:
                value = row[0] + amount
                c.execute("UPDATE counters SET value = ? WHERE key = ?", (value, key))
            return value

    def get(self, key: str) -> int:
        row = self._conn().execute("SELECT value FROM counters WHERE key = ? AND expires > ?",
                                   (key, time.time())).fetchone()
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        now = time.time()
        row = self._conn().execute("SELECT expires FROM counters WHERE key = ? AND expires > ?", (key, now)).fetchone()
        return float(row[0]) if row else now

    def clear(self, key: str) -> None:
        with self._tx() as c:
            c.execute("DELETE FROM counters WHERE key = ?", (key,))
            c.execute("DELETE FROM entries WHERE key = ?", (key,))

    def reset(self) -> int | None:
        with self._tx() as c:
            n = c.execute("SELECT (SELECT count(DISTINCT key) FROM entries) + (SELECT count(*) FROM counters)"
                          ).fetchone()[0]
            c.execute("DELETE FROM counters")
            c.execute("DELETE FROM entries")
            return int(n)

    def check(self) -> bool:
        try:
            self._conn().execute("SELECT 1 FROM entries LIMIT 1").fetchall()
            return True
        except sqlite3.Error:
            return False

    # ------------------------------------------------------------------ moving window (entries)
    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        now = time.time()
        with self._tx() as c:
            c.execute("DELETE FROM entries WHERE key = ? AND ts < ?", (key, now - expiry))
            (count,) = c.execute("SELECT count(*) FROM entries WHERE key = ?", (key,)).fetchone()
            if count + amount > limit:
                return False
            c.executemany("INSERT INTO entries (key, ts, expires) VALUES (?, ?, ?)",
                          [(key, now, now + expiry)] * amount)
            if now - self._pruned > PRUNE_EVERY_S:  # keys that stopped calling leave their last window behind
                self._pruned = now
                c.execute("DELETE FROM entries WHERE expires < ?", (now,))
                c.execute("DELETE FROM counters WHERE expires < ?", (now,))
            return True

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        now = time.time()
        oldest, count = self._conn().execute("SELECT min(ts), count(*) FROM entries WHERE key = ? AND ts >= ?",
                                             (key, now - expiry)).fetchone()
        return (float(oldest), int(count)) if count else (now, 0)


class _Immediate:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (or ``ROLLBACK``): the write lock is taken before reading, so a read-then-
    write by one process cannot interleave with another's."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, kind, value, tb) -> None:
        self.conn.execute("COMMIT" if kind is None else "ROLLBACK")


def sqlite_path(uri: str) -> Path:
    """``sqlite:///abs/file.db`` or ``sqlite:////abs/file.db`` → /abs/file.db; ``sqlite://rel/file.db`` → relative to
    the working directory."""
    parsed = urllib.parse.urlparse(uri)
    raw = urllib.parse.unquote(parsed.netloc + parsed.path)
    if raw.startswith("//"):
        raw = raw[1:]
    if not raw or raw == "/":
        raise ConfigError(f"rate-limit storage {uri!r}: give the file, e.g. sqlite:///var/lib/daogou/ratelimits.sqlite")
    return Path(raw).resolve()


def open_storage(uri: str, processes: int = 1) -> Storage:
    """The ``limits`` storage named by ``uri``, checked: reachable, and shared when ``processes`` > 1 count against
    it. A bad URI, a missing client package or an unreachable server is a :class:`ConfigError`."""
    from limits.errors import ConfigurationError
    from limits.storage import MemoryStorage, storage_from_string
    scheme = urllib.parse.urlparse(uri).scheme
    if scheme == "memory" and processes > 1:
        raise ConfigError(f"rate-limit storage {_redacted(uri)} lives inside one process, so {processes} workers would each "
                          "allow the whole limit: use sqlite:///FILE (one machine) or redis://HOST:PORT")
    try:
        storage = storage_from_string(uri, wrap_exceptions=True)
    except ConfigurationError as exc:
        from limits.storage import SCHEMES
        known = ", ".join(sorted(s for s in SCHEMES if not s.startswith("async+")))
        raise ConfigError(f"rate-limit storage {_redacted(uri)}: {exc} (schemes: {known})") from None
    if not isinstance(storage, Storage):
        raise ConfigError(f"rate-limit storage {_redacted(uri)}: an async storage; give the plain scheme")
    if not isinstance(storage, MemoryStorage):
        try:
            healthy = storage.check()
        except Exception as exc:  # noqa: BLE001 - any client error means: not usable
            healthy, why = False, f"{type(exc).__name__}: {exc}"
        else:
            why = "its check failed"
        if not healthy:
            raise ConfigError(f"rate-limit storage {_redacted(uri)} cannot be used: {why}")
    return storage


def redacted(uri: str) -> str:
    """``uri`` with its password (if any) replaced by ``***``, for messages and logs."""
    parsed = urllib.parse.urlparse(uri)
    if parsed.password:
        uri = uri.replace(f":{parsed.password}@", ":***@", 1)
    return uri


def _redacted(uri: str) -> str:
    return repr(redacted(uri))
