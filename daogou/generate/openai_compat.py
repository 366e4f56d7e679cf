"""The ``openai`` backend: any OpenAI-compatible chat endpoint (vLLM, Ollama, llama.cpp's server, OpenAI).

Streams ``POST {base_url}/chat/completions`` as server-sent events with the standard library's HTTP client.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

from daogou.errors import GenerationError
from daogou.generate.base import Capabilities, LLMConfig, Request


class OpenAIBackend:
    name = "openai"

    def __init__(self, config: LLMConfig):
        if not config.base_url:
            raise GenerationError("the openai backend needs the endpoint's base URL (--base-url / "
                                  "DAOGOU_LLM_BASE_URL), e.g. http://127.0.0.1:8000/v1")
        self.config = config
        self.url = config.base_url.rstrip("/") + "/chat/completions"
        self.model = config.model or "default"
        self.capabilities = Capabilities(streaming=True, languages=config.languages or ("en", "zh"))

    @property
    def model_id(self) -> str:
        return self.model

    def stream(self, request: Request) -> Iterator[str]:
        body = {"model": self.model, "messages": list(request.messages), "max_tokens": request.max_tokens,
                "temperature": request.temperature, "seed": request.seed, "stream": True}
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if self.config.api_key:
            headers["Authorization"] = f"Bearer {self.config.api_key}"
        http = urllib.request.Request(self.url, data=json.dumps(body).encode(), headers=headers, method="POST")
        try:
            response = urllib.request.urlopen(http, timeout=self.config.timeout_s)
        except urllib.error.HTTPError as exc:
            raise GenerationError(f"{self.url}: HTTP {exc.code}: {exc.read()[:300]!r}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise GenerationError(f"cannot reach {self.url}: {exc}") from exc
        with response:
            yield from _events(response, self.url)

    def close(self) -> None:
        pass


def _events(response, url: str) -> Iterator[str]:
    try:
        for raw in response:
            line = raw.decode("utf-8", "replace").strip()
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                return
            try:
                event = json.loads(data)
            except json.JSONDecodeError:
                raise GenerationError(f"{url}: not a JSON event: {data[:200]!r}") from None
            if event.get("error"):
                raise GenerationError(f"{url}: {event['error']}")
            choices = event.get("choices") or [{}]
            text = (choices[0].get("delta") or {}).get("content")
            if text:
                yield text
    except OSError as exc:
        raise GenerationError(f"{url}: connection lost: {exc}") from exc
