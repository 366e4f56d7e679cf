"""The ``daogou`` command group and what every command shares. Thin: parses flags, calls the library, prints, and turns errors into messages.

Exit status: 0 clean; 3 imported with rejects (see the quarantine file); 1 failed; 2 usage error.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import click

from daogou.errors import DaogouError, is_disk_full

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_REJECTS = 0, 1, 2, 3


class LibraryChoice(click.Choice):
    """A choice whose values the library owns (a registry's names, the generator's styles), read when a command
    first needs them: the list is written once, and commands start without importing models they do not use."""

    def __init__(self, values: Callable[[], Sequence[str]]) -> None:
        self._values = values
        self._cached: tuple[str, ...] | None = None
        super().__init__(())

    @property
    def choices(self) -> tuple[str, ...]:
        if self._cached is None:
            self._cached = tuple(self._values())
        return self._cached

    @choices.setter
    def choices(self, _: Sequence[str]) -> None:  # click.Choice.__init__ assigns it
        pass


class Ctx:
    def __init__(self, home: str | None, db: str | None, as_json: bool):
        self.home, self.db, self.as_json = home, db, as_json

    def store(self):
        from daogou.catalog.store import Store
        from daogou.config import resolve_store_config
        return Store.open(resolve_store_config(self.home, self.db))


def emit(ctx: Ctx, payload: dict[str, Any], human: str) -> None:
    click.echo(json.dumps(payload, ensure_ascii=False, indent=2) if ctx.as_json else human)


def command(fn):
    """Adds ``--json`` to a command and translates library errors into a message and exit status 1."""
    @click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")
    @click.pass_obj
    @functools.wraps(fn)
    def wrapper(obj: Ctx, as_json: bool, *args, **kwargs):
        obj.as_json = obj.as_json or as_json
        try:
            code = fn(obj, *args, **kwargs)
        except DaogouError as exc:
            _fail(obj, str(exc), type(exc).__name__)
        except KeyboardInterrupt:
            _fail(obj, "interrupted; run the same command again to resume", "Interrupted")
        except Exception as exc:  # a bug: say so plainly, never silently
            if is_disk_full(exc):  # a file beside the store (quarantine, index, bundle) met the full disk
                _fail(obj, f"no space left on the device: {exc}; free some and run the same command again "
                           "(what was committed is kept)", "StoreFull")
            if os.environ.get("DAOGOU_DEBUG"):
                traceback.print_exc()
            _fail(obj, f"unexpected {type(exc).__name__}: {exc} (set DAOGOU_DEBUG=1 for a traceback)", "InternalError")
        sys.exit(code or EXIT_OK)
    return wrapper


def _fail(ctx: Ctx, message: str, kind: str) -> None:
    if ctx.as_json:
        click.echo(json.dumps({"error": kind, "message": message}, ensure_ascii=False))
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_FAILED)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", envvar="DAOGOU_HOME", default=None, metavar="DIR",
              help="daogou home directory (store, images, quarantine). Default ./.daogou or $DAOGOU_HOME.")
@click.option("--db", envvar="DAOGOU_DB_URL", default=None, metavar="URL",
              help="SQLAlchemy URL of the store instead of HOME/daogou.db, e.g. postgresql+psycopg://…")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")
@click.version_option(package_name="daogou")
@click.pass_context
def cli(ctx: click.Context, home: str | None, db: str | None, as_json: bool) -> None:
    """daogou (导购): a self-hosted AI shopping guide."""
    ctx.obj = Ctx(home, db, as_json)


def ray_options(workers_help: str):
    """``--address`` and ``--workers`` of the commands that can run on a Ray cluster (with ``--ray``)."""
    def deco(fn):
        fn = click.option("--workers", type=click.IntRange(1, 1024), default=2, show_default=True,
                          help=f"{workers_help} (with --ray).")(fn)
        return click.option("--address", help="Ray cluster address (with --ray; default: start a local cluster).")(fn)
    return deco

