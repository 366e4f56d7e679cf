"""The HTTP app: ``create_app(settings)`` → FastAPI with the shopper API, the admin API, metrics and the chat page.

Routes live in :mod:`daogou.serve.routes`; this module wires settings, services, security and middleware.
"""

from __future__ import annotations

import logging
import os

import anyio
import anyio.to_thread
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles

from daogou import __version__
from daogou.catalog.store import Store
from daogou.config import StoreConfig
from daogou.serve import problems
from daogou.serve.metrics import Metrics, MetricsMiddleware
from daogou.serve.ratelimit import open_storage
from daogou.serve.schemas import HealthOut
from daogou.serve.security import BodyLimit, ClientAddress, RateLimiter, TokenSigner
from daogou.serve.services import EventLog, Holder
from daogou.serve.settings import ServeSettings

STATIC = Path(__file__).parent / "static"
CSP = ("default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'; connect-src 'self'; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")

log = logging.getLogger("daogou.serve")


class State:
    """Everything the routes need, reachable as ``request.app.state.daogou``."""

    def __init__(self, settings: ServeSettings, store: Store, holder: Holder, metrics: Metrics):
        self.settings, self.store, self.holder, self.metrics = settings, store, holder, metrics
        self.signer = TokenSigner(settings.signing_secrets(), settings.token_ttl_s)
        limited = any(rate > 0 for rate in (settings.rate_per_s, settings.chat_rate_per_s, settings.auth_rate_per_s,
                                            settings.service_rate_per_s))
        # one storage for the four limits (each its own namespace); with several workers, one they all share
        storage = open_storage(settings.rate_limit_storage_uri(), settings.workers) if limited else None
        self.limiter = RateLimiter(settings.rate_per_s, settings.rate_burst, storage, "daogou-request")
        self.chat_limiter = RateLimiter(settings.chat_rate_per_s, settings.chat_burst, storage, "daogou-chat")
        self.auth_limiter = RateLimiter(settings.auth_rate_per_s, settings.auth_burst, storage, "daogou-auth")
        self.service_limiter = RateLimiter(settings.service_rate_per_s, settings.service_burst, storage,
                                           "daogou-service")
        self.admin_keys = settings.admin_key_list()
        self.service_keys = settings.service_key_map()
        self.address = ClientAddress(settings.proxy_list())
        self._cpu = anyio.CapacityLimiter(settings.compute_slots())
        self.siblings = None  # the other worker processes of this server (daogou.serve.workers), when there are any

    async def compute(self, fn, *args):
        """Run model work in a worker thread, at most ``compute_threads`` at once: more threads than cores only
        add switching, while the event loop stays free for cheap requests."""
        return await anyio.to_thread.run_sync(fn, *args, limiter=self._cpu)


def create_app(settings: ServeSettings | None = None, store: Store | None = None) -> FastAPI:
    """Build the app. Opens the store (unless given), the search index and the model bundle before returning, so a
    server that starts is ready to answer."""
    settings = settings or ServeSettings()
    store = store or Store.open(StoreConfig(home=settings.home, url=settings.db_url))
    metrics = Metrics()
    holder = Holder(store, settings, EventLog(store, on_record=lambda t: metrics.events.labels(t).inc()))
    metrics.products.set(holder.current.info["products"])
    app = FastAPI(title="daogou", version=__version__,
                  description="Self-hosted AI shopping guide: search, recommendations, chat, grounded copy.",
                  docs_url="/docs", redoc_url=None, openapi_url="/openapi.json")
    app.state.daogou = State(settings, store, holder, metrics)
    problems.install(app, on_rate_limited=metrics.rate_limited.inc)
    problems.declare_problem_media_type(app)

    from daogou.serve.routes import admin, shop
    app.include_router(shop)
    app.include_router(admin)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")

    @app.get("/healthz", tags=["ops"], response_model=HealthOut)
    def healthz(request: Request) -> dict:
        s = request.app.state.daogou
        info = s.holder.current.info
        return {"status": "ok", "version": __version__, "products": info["products"], "bundle": info["bundle"],
                "llm": info["llm"], "loaded_ms": info["loaded_ms"]}

    @app.get("/metrics", tags=["ops"], include_in_schema=False)
    def metrics_endpoint(request: Request) -> Response:
        s = request.app.state.daogou
        # one process: the conversations it holds; several: the store's, which every worker shares
        s.metrics.conversations.set(s.store.count("conversations") if s.metrics.multiprocess
                                    else len(s.holder.current.assistant.conversations))
        return Response(s.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    app.add_middleware(BodyLimit, default=settings.max_body_bytes,
                       overrides={"/v1/admin/import": settings.max_import_bytes})
    # with several workers, each answer says which process gave it (to see the load spread, and in the tests)
    app.add_middleware(SecurityHeaders, extra=[(b"x-daogou-worker", str(os.getpid()).encode())]
                       if settings.workers > 1 else ())
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return app


class SecurityHeaders:
    """ASGI middleware adding the page's security headers to every response (streams included)."""

    HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
               (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY")]

    def __init__(self, app, extra=()):
        self.app = app
        self.headers = self.HEADERS + list(extra)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def sending(message):
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in self.headers if k not in present]
            await send(message)
        await self.app(scope, receive, sending)
