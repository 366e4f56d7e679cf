"""Shopper tokens (HMAC-signed, stdlib), admin API keys, rate limits and request-size limits."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time

from daogou.errors import AccessDenied

TOKEN_VERSION = "v1"


class TokenSigner:
    """``v1.<payload>.<signature>``: payload = base64url JSON {sub, exp}; signature = HMAC-SHA256 over both."""

    def __init__(self, secret: bytes, ttl_s: int):
        if len(secret) < 16:
            raise AccessDenied("the token secret must be at least 16 bytes")
        self.secret, self.ttl_s = secret, ttl_s

    def issue(self, shopper_id: str, now: float | None = None) -> str:
        payload = {"sub": shopper_id, "exp": int((now or time.time()) + self.ttl_s)}
        body = _b64(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
        return f"{TOKEN_VERSION}.{body}.{self._sign(body)}"

    def verify(self, token: str, now: float | None = None) -> str:
        """The shopper id the token was issued to; :class:`AccessDenied` if it is forged, malformed or expired."""
        parts = token.split(".") if isinstance(token, str) else []
        if len(parts) != 3 or parts[0] != TOKEN_VERSION:
            raise AccessDenied("malformed shopper token")
        if not hmac.compare_digest(parts[2], self._sign(parts[1])):
            raise AccessDenied("invalid shopper token")
        try:
            payload = json.loads(_unb64(parts[1]))
            sub, exp = str(payload["sub"]), int(payload["exp"])
        except (ValueError, KeyError, TypeError):
            raise AccessDenied("malformed shopper token") from None
        if exp < (now or time.time()):
            raise AccessDenied("expired shopper token")
        return sub

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self.secret, f"{TOKEN_VERSION}.{body}".encode(), hashlib.sha256).digest())


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def check_admin_key(given: str | None, keys: list[str]) -> None:
    if not keys:
        raise AccessDenied("admin endpoints are disabled: no admin key is configured (DAOGOU_ADMIN_KEYS)")
    if not given or not any(hmac.compare_digest(given.encode(), k.encode()) for k in keys):
        raise AccessDenied("missing or wrong admin API key (X-API-Key)")


class RateLimited(Exception):
    def __init__(self, retry_after_s: float):
        super().__init__(f"rate limit exceeded; retry in {retry_after_s:.1f}s")
        self.retry_after_s = retry_after_s


class RateLimiter:
    """Token buckets by key (``rate`` tokens per second, at most ``burst``); ``rate`` 0 disables the limit."""

    def __init__(self, rate: float, burst: int, max_keys: int = 100_000):
        self.rate, self.burst, self.max_keys = rate, burst, max_keys
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, now: float | None = None) -> None:
        if self.rate <= 0:
            return
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                raise RateLimited((1.0 - tokens) / self.rate)
            self._buckets[key] = (tokens - 1.0, now)
            if len(self._buckets) > self.max_keys:  # forget the fullest buckets' owners first
                for k in [k for k, (t, _) in self._buckets.items() if t >= self.burst - 1][: self.max_keys // 10]:
                    self._buckets.pop(k, None)


class BodyLimit:
    """ASGI middleware: a request body over the limit is refused with 413 before the app reads it."""

    def __init__(self, app, default: int, overrides: dict[str, int]):
        self.app, self.default, self.overrides = app, default, overrides

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = next((v for prefix, v in self.overrides.items() if scope["path"].startswith(prefix)), self.default)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return await _too_large(send, limit)
        seen = 0

        async def limited():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _BodyTooLarge()
            return message

        try:
            await self.app(scope, limited, send)
        except _BodyTooLarge:
            await _too_large(send, limit)


class _BodyTooLarge(Exception):
    pass


async def _too_large(send, limit: int) -> None:
    body = json.dumps({"type": "about:blank", "title": "Payload Too Large", "status": 413,
                       "detail": f"request body over {limit:,} bytes"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/problem+json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
