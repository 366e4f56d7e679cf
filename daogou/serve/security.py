"""Shopper tokens (JWT, HS256), admin and service API keys, client addresses behind proxies, rate limits and
request-size limits."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import time
from collections.abc import Sequence

import jwt
from limits import RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import MemoryStorage, MovingWindowSupport, SlidingWindowCounterSupport
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter, SlidingWindowCounterRateLimiter

from daogou.errors import AccessDenied

log = logging.getLogger("daogou.serve")

LEGACY_VERSION = "v1"
ISSUER = "daogou"


def key_id(secret: bytes) -> str:
    """A key's public name (``kid``): a hash prefix that says which secret signed a token, never the secret."""
    return hashlib.sha256(b"daogou-kid:" + secret).hexdigest()[:16]


class TokenSigner:
    """Shopper tokens as JWTs: HS256, header ``kid`` naming the key, claims ``sub`` (the shopper), ``iat``,
    ``exp`` and ``iss`` = "daogou", so a store's other services can verify them with any JWT library.

    Rotation: the first secret signs, every secret verifies, so tokens signed with a previous secret stay valid
    until they expire and are refused once that secret is dropped from the list. Tokens of the earlier
    ``v1.<payload>.<signature>`` form are still accepted until they expire.
    """

    def __init__(self, secrets: bytes | Sequence[bytes], ttl_s: int):
        keys = [secrets] if isinstance(secrets, bytes) else list(secrets)
        if not keys or any(len(k) < 16 for k in keys):
            raise AccessDenied("every token secret must be at least 16 bytes")
        self.keys = {key_id(k): k for k in keys}
        self.current = key_id(keys[0])
        self.ttl_s = ttl_s

    def issue(self, shopper_id: str, now: float | None = None) -> str:
        now = int(time.time() if now is None else now)
        claims = {"sub": shopper_id, "iat": now, "exp": now + self.ttl_s, "iss": ISSUER}
        return jwt.encode(claims, self.keys[self.current], algorithm="HS256", headers={"kid": self.current})

    def verify(self, token: str, now: float | None = None) -> str:
        """The shopper id the token was issued to; :class:`AccessDenied` if it is forged, malformed or expired."""
        if not isinstance(token, str) or not token:
            raise AccessDenied("malformed shopper token")
        if token.startswith(LEGACY_VERSION + "."):
            sub, exp = self._legacy(token)
        else:
            try:
                header = jwt.get_unverified_header(token)
            except jwt.InvalidTokenError:
                raise AccessDenied("malformed shopper token") from None
            key = self.keys.get(str(header.get("kid", "")))
            if key is None:
                raise AccessDenied("shopper token signed with a key this server no longer accepts")
            try:  # expiry is checked below against ``now`` (tests pass a clock)
                claims = jwt.decode(token, key, algorithms=["HS256"], issuer=ISSUER,
                                    options={"verify_exp": False, "require": ["sub", "exp", "iss"]})
                sub, exp = str(claims["sub"]), int(claims["exp"])
            except (jwt.InvalidTokenError, ValueError, TypeError):
                raise AccessDenied("invalid shopper token") from None
        if exp < (time.time() if now is None else now):
            raise AccessDenied("expired shopper token")
        return sub

    def _legacy(self, token: str) -> tuple[str, int]:
        parts = token.split(".")
        if len(parts) != 3:
            raise AccessDenied("malformed shopper token")
        if not any(hmac.compare_digest(parts[2], _legacy_signature(k, parts[1])) for k in self.keys.values()):
            raise AccessDenied("invalid shopper token")
        try:
            payload = json.loads(_unb64(parts[1]))
            return str(payload["sub"]), int(payload["exp"])
        except (ValueError, KeyError, TypeError):
            raise AccessDenied("malformed shopper token") from None


def _legacy_signature(secret: bytes, body: str) -> str:
    return _b64(hmac.new(secret, f"{LEGACY_VERSION}.{body}".encode(), hashlib.sha256).digest())


def issue_legacy_token(secret: bytes, shopper_id: str, exp: int) -> str:
    """A token of the earlier ``v1.`` form (for tests of the transition and for tools that still mint them)."""
    body = _b64(json.dumps({"sub": shopper_id, "exp": exp}, separators=(",", ":"), ensure_ascii=False).encode())
    return f"{LEGACY_VERSION}.{body}.{_legacy_signature(secret, body)}"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def check_admin_key(given: str | None, keys: list[str]) -> None:
    if not keys:
        raise AccessDenied("admin endpoints are disabled: no admin key is configured (DAOGOU_ADMIN_KEYS)")
    if not given or not any(hmac.compare_digest(given.encode(), k.encode()) for k in keys):
        raise AccessDenied("missing or wrong admin API key (X-API-Key)")


def service_name(given: str, keys: dict[str, str]) -> str:
    """The service a ``X-Service-Key`` belongs to (its quota is its own); :class:`AccessDenied` if none."""
    for name, key in keys.items():
        if hmac.compare_digest(given.encode(), key.encode()):
            return name
    raise AccessDenied("unknown service key (X-Service-Key)")


class ClientAddress:
    """The address a request comes from. ``X-Forwarded-For`` is believed only when the peer is a configured
    trusted proxy; then the client is the right-most address in it that is not a trusted proxy itself (the
    left-most entries are whatever the client chose to send)."""

    def __init__(self, trusted: Sequence[str] = ()):
        self.trusted = [ipaddress.ip_network(t.strip(), strict=False) for t in trusted if t.strip()]

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self.trusted)

    def of(self, peer: str | None, forwarded_for: str | None) -> str:
        peer = peer or "-"
        if not self.trusted or not forwarded_for or not self._is_trusted(peer):
            return peer
        hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
        for hop in reversed(hops):
            if not self._is_trusted(hop):
                return hop
        return hops[0] if hops else peer


class RateLimited(Exception):
    def __init__(self, retry_after_s: float):
        super().__init__(f"rate limit exceeded; retry in {retry_after_s:.1f}s")
        self.retry_after_s = retry_after_s


class RateLimiter:
    """At most ``burst`` requests per key in any ``burst / rate`` seconds (so ``rate`` per second in the long run);
    ``rate`` 0 disables the limit. Counted with the ``limits`` library's moving window in ``storage`` — in-process
    memory by default, or one shared by every worker process of a server (:mod:`daogou.serve.ratelimit`) — under
    ``namespace``, so limiters sharing a storage never share a count.

    The window is whole seconds, at least one: a ``rate`` above ``burst`` allows ``rate`` requests in one second.
    A storage that cannot be reached lets requests through (logged): limits protect the service, they must not
    take it down."""

    def __init__(self, rate: float, burst: int, storage=None, namespace: str = "daogou"):
        self.rate, self.burst = rate, burst
        if rate <= 0:
            return
        amount = max(int(burst), round(rate))
        self.item = RateLimitItemPerSecond(amount, max(1, round(amount / rate)), namespace=namespace)
        self.storage = storage if storage is not None else MemoryStorage(wrap_exceptions=True)
        self.strategy = _strategy(self.storage)
        self._warned = 0.0

    def take(self, key: str) -> None:
        if self.rate <= 0:
            return
        try:
            if self.strategy.hit(self.item, key):
                return
            reset = self.strategy.get_window_stats(self.item, key).reset_time
        except StorageError as exc:
            if time.monotonic() - self._warned > 60:
                self._warned = time.monotonic()
                log.error("rate-limit storage failed (%s); requests are let through until it answers", exc)
            return
        raise RateLimited(max(0.0, reset - time.time()))


def _strategy(storage):
    """The moving window where the storage has it (memory, SQLite, Redis, MongoDB: exact), else the sliding window
    counter (memcached), else a fixed window."""
    if isinstance(storage, MovingWindowSupport):
        return MovingWindowRateLimiter(storage)
    if isinstance(storage, SlidingWindowCounterSupport):
        return SlidingWindowCounterRateLimiter(storage)
    return FixedWindowRateLimiter(storage)


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
