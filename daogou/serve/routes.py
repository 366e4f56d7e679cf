"""Routes: ``shop`` (shopper-facing: chat, search, recommend, products, events, sign-in) and ``admin``."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field
from sse_starlette.sse import EventSourceResponse

from daogou.catalog.filters import Filters
from daogou.catalog.models import Event, Product, Shopper
from daogou.errors import AccessDenied, DaogouError, NotFoundError, ValidationError
from daogou.assist.engine import Reply
from daogou.generate.tasks import LANGS, STYLES, TONES
from daogou.generate.writer import Result
from daogou.serve.schemas import (EVENT_TYPES, SEARCH_MODES, ConversationOut, DemoShoppersOut, EventOut, ImportOut, ProductOut,
                                  RecommendOut, ReloadOut, SearchOut, TokenOut, problems)
from daogou.serve.security import check_admin_key, service_name

log = logging.getLogger("daogou.serve")

# Every operation can answer these: a bad token (401), a body over the limit (413), input the schema or the library
# refuses (422), too many requests (429), a server fault (500), a full disk under the store (507); routes add
# their own.
COMMON = problems(401, 413, 422, 429, 500, 507)
shop = APIRouter(prefix="/v1", tags=["shop"], responses=COMMON)
admin = APIRouter(prefix="/v1/admin", tags=["admin"], responses={**COMMON, **problems(403)})

IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp",
               ".gif": "image/gif"}


# ---------------------------------------------------------------- identity and limits

def fast_json(payload: dict) -> Response:
    """JSON without FastAPI's generic encoder pass: the hot endpoints build plain dicts already."""
    import orjson
    return Response(orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY), media_type="application/json")


def _state(request: Request):
    return request.app.state.daogou


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def client_address(request: Request) -> str:
    return _state(request).address.of(request.client.host if request.client else None,
                                      request.headers.get("x-forwarded-for"))


async def optional_shopper(request: Request, authorization: str | None = Header(None),
                           x_service_key: str | None = Header(None)) -> str | None:
    """The signed-in shopper, or None. Every request also takes a rate-limit token: from its service's quota when
    it carries a service key (a store's backend calling for all its visitors), else the shopper's, else its
    address's (behind a trusted proxy, the address the proxy saw)."""
    s = _state(request)
    token = _bearer(authorization)
    shopper = s.signer.verify(token) if token else None
    if x_service_key:
        s.service_limiter.take("service:" + service_name(x_service_key, s.service_keys))
    else:
        s.limiter.take(f"shopper:{shopper}" if shopper else f"addr:{client_address(request)}")
    return shopper


async def shopper(who: str | None = Depends(optional_shopper)) -> str:
    if who is None:
        raise AccessDenied("sign in first: send 'Authorization: Bearer <token>' (POST /v1/auth/guest gives one)")
    return who


async def admin_key(request: Request, x_api_key: str | None = Header(None)) -> None:
    check_admin_key(x_api_key, _state(request).admin_keys)


# ---------------------------------------------------------------- sign-in

class DemoLogin(BaseModel):
    shopper_id: str = Field(min_length=1, max_length=200)


def _token(s, shopper_id: str) -> TokenOut:
    return TokenOut(shopper_id=shopper_id, token=s.signer.issue(shopper_id), expires_in_s=s.settings.token_ttl_s)


@shop.post("/auth/guest", response_model=TokenOut)
def guest(request: Request, _=Depends(optional_shopper)) -> TokenOut:
    """A new anonymous shopper and their token (limited per address: DAOGOU_AUTH_RATE_PER_S)."""
    s = _state(request)
    s.auth_limiter.take(f"auth:{client_address(request)}")
    sid = "guest-" + uuid.uuid4().hex[:16]
    with s.store.transaction() as conn:
        s.store.write_shoppers(conn, [Shopper(sid)])
    return _token(s, sid)


@shop.post("/auth/demo", response_model=TokenOut, responses=problems(404))
def demo_login(body: DemoLogin, request: Request, _=Depends(optional_shopper)) -> TokenOut:
    """Sign in as one of the demo store's shoppers (only when the server runs the demo)."""
    s = _state(request)
    if not s.settings.demo_login:
        raise NotFoundError("endpoint", "/v1/auth/demo")
    s.auth_limiter.take(f"auth:{client_address(request)}")
    if not s.store.has_shopper(body.shopper_id):
        raise NotFoundError("shopper", body.shopper_id)
    return _token(s, body.shopper_id)


@shop.get("/demo/shoppers", response_model=DemoShoppersOut, responses=problems(404))
def demo_shoppers(request: Request, _=Depends(optional_shopper)) -> dict:
    """A few demo shoppers with their planted tastes (only when the server runs the demo)."""
    s = _state(request)
    if not s.settings.demo_login:
        raise NotFoundError("endpoint", "/v1/demo/shoppers")
    path = Path(s.settings.home) / "demo_truth.json"
    truth = json.loads(path.read_text()) if path.exists() else {"shoppers": {}}
    out = [{"id": k, "language": v["language"], "categories": v["categories"], "brands": v["brands"],
            "price_level": v["price_level"], "colour": v["colour"]} for k, v in list(truth["shoppers"].items())[:12]]
    return {"shoppers": out}


# ---------------------------------------------------------------- chat

# One Server-Sent Event of a streamed turn; ``data`` is JSON (``cards``: the reply without its text, ``delta``: more
# text, ``reset``: start the text again, ``done``: the whole reply, ``error``: a problem detail in-band).
SSE_EVENT = {"type": "object", "required": ["event", "data"], "properties": {
    "event": {"type": "string", "enum": ["cards", "delta", "reset", "done", "error"]},
    "data": {"type": "string", "contentMediaType": "application/json"}}}


class ChatIn(BaseModel):
    message: str = Field(min_length=1, max_length=1000)
    conversation_id: str | None = Field(None, max_length=64)
    language: Literal["en", "zh"] | None = None
    stream: bool = False


@shop.post("/chat", response_model=Reply, responses={
    **problems(404, 503),
    200: {"content": {"text/event-stream": {"schema": SSE_EVENT}},
          "description": "the reply as JSON, or as Server-Sent Events when asked for"}})
async def chat(body: ChatIn, request: Request, who: str = Depends(shopper)):
    """One turn of the conversation. JSON by default; Server-Sent Events with ``stream: true`` or
    ``Accept: text/event-stream`` (events: ``cards``, ``delta``, ``reset``, ``done``, ``error``)."""
    s = _state(request)
    s.chat_limiter.take(f"shopper:{who}")
    services = s.holder.current
    assistant = services.assistant
    conv = assistant.conversations.get(body.conversation_id, who) if body.conversation_id else \
        assistant.start(who, body.language or "en")
    if body.stream or "text/event-stream" in request.headers.get("accept", ""):
        return EventSourceResponse(_sse(s, assistant, conv, body), ping=15)
    reply = await run_in_threadpool(assistant.reply, conv, body.message, body.language)  # may wait on a local LLM
    s.metrics.chat_turns.labels(reply.kind).inc()
    return fast_json(reply.to_dict())


def _sse(s, assistant, conv, body: ChatIn):
    try:
        for update in assistant.stream(conv, body.message, body.language):
            if update.event == "done":
                s.metrics.chat_turns.labels(update.data["kind"]).inc()
            payload = {"conversation_id": conv.id, **update.data}
            yield {"event": update.event, "data": json.dumps(payload, ensure_ascii=False)}
    except Exception as exc:  # the stream already started: report in-band, never a silent cut
        detail = str(exc) if isinstance(exc, DaogouError) else "the server failed on this turn; see the server log"
        if not isinstance(exc, DaogouError):
            log.exception("chat stream failed")
        yield {"event": "error", "data": json.dumps({"detail": detail}, ensure_ascii=False)}


@shop.get("/conversations/{conversation_id}", response_model=ConversationOut, responses=problems(404))
def conversation(conversation_id: str, request: Request, who: str = Depends(shopper)) -> dict:
    """A conversation of the signed-in shopper (another shopper's looks like one that does not exist)."""
    return _state(request).holder.current.assistant.conversations.get(conversation_id, who).to_dict()


# ---------------------------------------------------------------- search, recommend, products

def _filters(specs: list[str]) -> Filters:
    return Filters.parse(specs) if specs else Filters()


def product_json(p: Product, lang: str | None = None) -> dict:
    title, description = p.text(lang)
    return {"id": p.id, "title": title or p.title, "description": description or p.description,
            "category": list(p.category), "brand": p.brand, "price": p.price, "currency": p.currency,
            "attributes": p.attributes, "in_stock": p.in_stock, "language": p.language,
            "image_url": f"/v1/products/{p.id}/image" if p.image else None}


@shop.get("/search", response_model=SearchOut)
async def search(request: Request, q: str = Query(..., min_length=1, max_length=2000), k: int = Query(10, ge=1, le=100),
           mode: Literal[SEARCH_MODES] = "hybrid", filter: list[str] = Query(default=[]),
           lang: Literal["en", "zh"] | None = None, who: str | None = Depends(optional_shopper)) -> Response:
    """Hybrid product search. ``filter`` takes the CLI's forms: ``price<=300``, ``brand!=Echolo``, ``color=red``.
    With a trained re-ranker (``daogou train --model reranker``) the top of the list is re-ordered by what shoppers
    did after such searches, and for a signed-in shopper by their own history too.

    Runs on the event loop: a search takes about a millisecond, less than a hop to the threadpool costs (a query
    the encoder has not seen yet, or a signed-in shopper's history for the re-ranker, is read in the threadpool)."""
    services = _state(request).holder.current
    searcher = services.searcher
    personal = who is not None and searcher.reranker is not None and mode == "hybrid"
    if personal or (mode != "lexical" and searcher.needs_encoding(q)):
        def work():
            history = searcher.history_of(services.store.event_rows([who])) if personal else None
            return searcher.search(q, k, _filters(filter), mode, False, history)
        res = await run_in_threadpool(work)
    else:
        res = searcher.search(q, k=k, filters=_filters(filter), mode=mode, facets=False)
    out = res.to_dict()
    for hit, h in zip(out["hits"], res.hits):
        hit.update(product_json(h.product, lang))
    return fast_json(out)


@shop.get("/recommend", response_model=RecommendOut, responses=problems(404))
async def recommend(request: Request, n: int = Query(10, ge=1, le=100), q: str | None = Query(None, max_length=500),
                    filter: list[str] = Query(default=[]), lang: Literal["en", "zh"] | None = None,
                    who: str = Depends(shopper)) -> Response:
    """Products for the signed-in shopper from their history (events recorded a moment ago included)."""
    s = _state(request)
    services = s.holder.current
    if services.recommender is None:
        raise NotFoundError("model bundle", "none loaded (train one: daogou train)")
    filters = _filters(filter)

    def work() -> dict:
        ids, scores = services.recommender.recommend(who, query=q, n=n, filters=filters)
        products = {p.id: p for p in services.store.get_products(ids)}
        return {"shopper_id": who, "items": [{**product_json(products[i], lang), "score": round(float(sc), 6)}
                                             for i, sc in zip(ids, scores) if i in products]}
    return fast_json(await s.compute(work))


def _product(services, product_id: str) -> Product:
    p = services.store.get_product(product_id)
    if p is None:
        raise NotFoundError("product", product_id)
    return p


@shop.get("/products/{product_id}", response_model=ProductOut, responses=problems(404))
def product(product_id: str, request: Request, lang: Literal["en", "zh"] | None = None,
            _=Depends(optional_shopper)) -> dict:
    return product_json(_product(_state(request).holder.current, product_id), lang)


@shop.get("/products/{product_id}/image", include_in_schema=False)
def product_image(product_id: str, request: Request) -> FileResponse:
    s = _state(request)
    p = _product(s.holder.current, product_id)
    home = Path(s.settings.home).resolve()
    path = (home / p.image).resolve() if p.image else None
    if path is None or home not in path.parents or path.suffix.lower() not in IMAGE_TYPES or not path.is_file():
        raise NotFoundError("image of product", product_id)
    return FileResponse(path, media_type=IMAGE_TYPES[path.suffix.lower()],
                        headers={"Cache-Control": "public, max-age=3600"})


class EventIn(BaseModel):
    type: Literal[EVENT_TYPES]
    product_id: str | None = Field(None, max_length=200)
    query: str = Field("", max_length=500)
    session_id: str = Field("web", min_length=1, max_length=100)


@shop.post("/events", status_code=201, response_model=EventOut, responses=problems(404))
def events(body: EventIn, request: Request, who: str = Depends(shopper)) -> dict:
    """Record what the signed-in shopper did; the next recommendation takes it into account at once."""
    s = _state(request)
    services = s.holder.current
    if body.type != "search":
        if not body.product_id:
            raise ValidationError("product_id", f"required for {body.type!r} events")
        _product(services, body.product_id)
    elif not body.query:
        raise ValidationError("query", "required for 'search' events")
    event = Event(who, body.session_id, int(time.time() * 1000), body.type, body.product_id, body.query)
    s.holder.record([event])
    return {"recorded": 1, "shopper_id": who, "type": body.type}


# ---------------------------------------------------------------- admin

class CopyIn(BaseModel):
    """The library's own choices (daogou.generate.tasks), so a value it would refuse is a 422 here, not a 503."""
    lang: Literal[LANGS] = "en"
    style: Literal[STYLES] = "short"
    tone: Literal[TONES] = "neutral"


@shop.post("/products/{product_id}/copy", dependencies=[Depends(admin_key)], response_model=Result,
           responses=problems(403, 404, 503))
def copy(product_id: str, body: CopyIn, request: Request) -> dict:
    """Grounded product copy from the configured LLM (admin key: this writes the store's own text)."""
    services = _state(request).holder.current
    p = _product(services, product_id)
    result = services.writer.copy([p], lang=body.lang, style=body.style, tone=body.tone)[0]
    return result.to_dict()


class TokenFor(BaseModel):
    shopper_id: str = Field(min_length=1, max_length=200)


@admin.post("/tokens", response_model=TokenOut, dependencies=[Depends(admin_key)])
def token_for(body: TokenFor, request: Request) -> TokenOut:
    """A token for one of the store's shoppers (e.g. for the store's own login to hand to the page)."""
    s = _state(request)
    with s.store.transaction() as conn:
        s.store.write_shoppers(conn, [Shopper(body.shopper_id)])
    return _token(s, body.shopper_id)


class ReloadIn(BaseModel):
    bundle: str | None = Field(None, max_length=1000)


@admin.post("/reload", dependencies=[Depends(admin_key)], response_model=ReloadOut, responses=problems(400, 404))
def reload(body: ReloadIn, request: Request) -> dict:
    """Load a model bundle (default: HOME/models/daogou-rec) and swap it in; requests in flight finish on the old."""
    s = _state(request)
    try:
        services = s.holder.reload(body.bundle)
    except Exception:
        s.metrics.reloads.labels("failed").inc()
        raise
    s.metrics.reloads.labels("ok").inc()
    if s.siblings is not None:  # the server's other worker processes load it too
        s.siblings.publish(bundle=services.bundle)
    return {"reloaded": True, **services.info}


@admin.post("/import", dependencies=[Depends(admin_key)], response_model=ImportOut, response_model_by_alias=True,
            responses=problems(400), openapi_extra={"requestBody": {"required": True, "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}})
async def import_file(request: Request, format: str = Query(..., max_length=40),
                      filename: str = Query("upload", max_length=200), strict: bool = False) -> dict:
    """Import a file sent as the request body (any format ``daogou import`` knows), then serve the new catalog."""
    from daogou.catalog.importers import IMPORTERS
    from daogou.catalog.importers.base import ImportOptions
    from daogou.catalog.importers.runner import run_import
    s = _state(request)
    if format not in IMPORTERS.names():
        raise ValidationError("format", f"{format!r} is not one of {', '.join(IMPORTERS.names())}")
    folder = Path(s.settings.home) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{int(time.time())}-{uuid.uuid4().hex[:8]}-{re.sub(r'[^A-Za-z0-9_.-]+', '_', filename)[-80:]}"
    with open(path, "wb") as fh:
        async for chunk in request.stream():
            fh.write(chunk)
    report = await run_in_threadpool(run_import, s.store, format, path, ImportOptions(strict=strict),
                                     progress=False, parallel=False)
    services = await run_in_threadpool(s.holder.refresh_catalog)
    s.metrics.products.set(services.info["products"])
    if s.siblings is not None:  # the server's other worker processes serve the new catalog too
        s.siblings.publish(catalog=True)
    return {"import": report.to_dict(), "products": services.info["products"], "file": path.name}
