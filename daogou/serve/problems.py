"""Errors as RFC 9457 problem details (``application/problem+json``). The library's typed errors map to statuses;
anything unexpected is a 500 that says nothing about internals (the traceback goes to the server log)."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from daogou.errors import (AccessDenied, ConfigError, DaogouError, GenerationError, ImportFailed, NotFoundError,
                           StoreFull, UnknownNameError, ValidationError)
from daogou.serve.security import RateLimited

log = logging.getLogger("daogou.serve")

STATUS = [(StoreFull, 507, "Insufficient Storage"), (NotFoundError, 404, "Not Found"), (AccessDenied, 401, "Unauthorized"),
          (ValidationError, 422, "Invalid Input"), (UnknownNameError, 400, "Unknown Name"),
          (ImportFailed, 400, "Import Failed"), (ConfigError, 400, "Bad Request"),
          (GenerationError, 503, "Generation Unavailable"), (DaogouError, 400, "Bad Request")]


def problem(status: int, title: str, detail: str, request: Request | None = None, headers: dict | None = None,
            **extra) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail,
            **({"instance": request.url.path} if request is not None else {}), **extra}
    headers = dict(headers or {})
    if "retry_after_s" in extra:
        headers["Retry-After"] = str(extra["retry_after_s"])
    return JSONResponse(body, status_code=status, media_type="application/problem+json", headers=headers or None)


def install(app: FastAPI, on_rate_limited=None) -> None:
    @app.exception_handler(DaogouError)
    async def _library(request: Request, exc: DaogouError):
        status, title = next((s, t) for cls, s, t in STATUS if isinstance(exc, cls))
        extra = {"field": exc.field, "reason": exc.reason} if isinstance(exc, ValidationError) else {}
        if isinstance(exc, AccessDenied) and getattr(exc, "forbidden", False):
            status, title = 403, "Forbidden"
        return problem(status, title, str(exc), request, **extra)

    @app.exception_handler(RateLimited)
    async def _limited(request: Request, exc: RateLimited):
        if on_rate_limited:
            on_rate_limited()
        return problem(429, "Too Many Requests", str(exc), request, retry_after_s=max(1, round(exc.retry_after_s)))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        errors = [{"field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"), "reason": e.get("msg", "")}
                  for e in exc.errors()]
        detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
        return problem(422, "Invalid Input", detail, request, errors=errors)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException):
        # keep the framework's headers: a 405 says which methods are allowed (Allow), a 401 how to sign in
        return problem(exc.status_code, _title(exc.status_code), str(exc.detail), request, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(500, "Internal Server Error", "the server failed on this request; see the server log",
                       request)


def declare_problem_media_type(app: FastAPI) -> None:
    """Say in ``/openapi.json`` what the handlers above send: every 4xx/5xx body is ``application/problem+json``."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = build()
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    for status, response in operation.get("responses", {}).items():
                        content = response.get("content", {})
                        if status[:1] in "45" and "application/json" in content:
                            content["application/problem+json"] = content.pop("application/json")
            app.openapi_schema = schema
        return app.openapi_schema
    app.openapi = openapi


def _title(status: int) -> str:
    from http import HTTPStatus
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
