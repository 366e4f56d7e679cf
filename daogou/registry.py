"""One registry for every pluggable kind: text and image encoders, LLM backends, recommenders, importers.

A name maps to a reference ``"module:attribute"`` that is imported on first use, or to the object itself. The
built-ins are written as such references, and a package adds its own through a Python entry point of the
kind's group — the same mechanism, so a built-in is a plugin that ships with daogou::

    # a plugin's pyproject.toml
    [project.entry-points."daogou.encoders"]
    my-encoder = "my_package.encoder:MyEncoder"

Groups: ``daogou.encoders``, ``daogou.image_encoders``, ``daogou.llm_backends``, ``daogou.recommenders``,
``daogou.importers``. A plugin cannot replace a built-in of the same name (a warning says it was ignored).
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Generic, TypeVar, overload

from daogou.errors import ConfigError, UnknownNameError

T = TypeVar("T")


class Registry(Generic[T]):
    """Names → factories of one kind. ``get`` raises :class:`UnknownNameError` naming the choices."""

    def __init__(self, kind: str, group: str, builtins: Mapping[str, str] | None = None) -> None:
        self.kind = kind
        self.group = group
        self._refs: dict[str, str | EntryPoint] = dict(builtins or {})
        self._builtin = frozenset(self._refs)
        self._loaded: dict[str, T] = {}
        self._plugins_read = False

    @overload
    def register(self, name: str) -> Callable[[T], T]: ...

    @overload
    def register(self, name: str, obj: T) -> T: ...

    def register(self, name: str, obj: T | None = None):
        """Register ``obj`` under ``name``; without ``obj``, a decorator. Registering a name again replaces it."""
        def put(o: T) -> T:
            self._refs.pop(name, None)
            self._loaded[name] = o
            return o
        return put if obj is None else put(obj)

    def names(self) -> list[str]:
        self._read_plugins()
        return sorted(set(self._refs) | set(self._loaded))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self.names()

    def get(self, name: str, extra_choices: tuple[str, ...] = ()) -> T:
        """The factory registered as ``name`` (imported now if it was a reference)."""
        if name in self._loaded:
            return self._loaded[name]
        self._read_plugins()
        ref = self._refs.get(name)
        if ref is None:
            raise UnknownNameError(self.kind, name, self.names() + list(extra_choices))
        self._loaded[name] = obj = self._load(name, ref)
        del self._refs[name]
        return obj

    def _load(self, name: str, ref: str | EntryPoint) -> T:
        try:
            if isinstance(ref, EntryPoint):
                return ref.load()
            module, _, attribute = ref.partition(":")
            return getattr(importlib.import_module(module), attribute)
        except Exception as e:  # a broken plugin must say which one it is
            where = ref.value if isinstance(ref, EntryPoint) else ref
            raise ConfigError(f"{self.kind} {name!r} ({where}) could not be loaded: {type(e).__name__}: {e}") from e

    def _read_plugins(self) -> None:
        if self._plugins_read:
            return
        self._plugins_read = True
        for point in entry_points(group=self.group):
            if point.name in self._builtin:
                warnings.warn(f"{self.kind} plugin {point.value!r} ignored: {point.name!r} is a built-in name",
                              stacklevel=3)
            elif point.name not in self._loaded:
                self._refs.setdefault(point.name, point)
