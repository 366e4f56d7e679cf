"""Serve: the HTTP API (FastAPI), the chat page, security, limits and metrics. The outermost layer: it imports the
library and translates its typed errors into problem details; nothing imports it."""

from daogou.serve.app import create_app
from daogou.serve.settings import ServeSettings

__all__ = ["ServeSettings", "create_app"]
