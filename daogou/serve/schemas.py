"""The HTTP contract: every response body the API sends, declared once so ``/openapi.json`` describes it.

Where the library already has the shape (a chat ``Reply``, a ``Conversation``, a writer ``Result``, parsed queries
and filters, import reports) the library's dataclass is the schema; the models here add only what HTTP adds
(product JSON with an image URL, scores, health and reload info). The hot endpoints build plain dicts and send
them without a validation pass, so a test checks real responses against these schemas
(``tests/test_serve_contract.py``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from daogou.assist.state import Constraints, Turn
from daogou.catalog.filters import Filters
from daogou.catalog.importers.runner import FileReport
from daogou.catalog.models import EVENT_TYPES
from daogou.search.engine import MODES as SEARCH_MODES
from daogou.search.query import ParsedQuery


class Problem(BaseModel):
    """An error, as RFC 9457 problem details (``application/problem+json``)."""

    model_config = ConfigDict(extra="allow")
    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
    field: str | None = Field(None, description="the input field at fault (422)")
    reason: str | None = Field(None, description="why that field was refused (422)")
    errors: list[dict[str, str]] | None = Field(None, description="every field at fault (422 from the schema)")
    retry_after_s: int | None = Field(None, description="when to try again (429)")


class ProductOut(BaseModel):
    id: str
    title: str
    description: str
    category: list[str]
    brand: str
    price: float | None
    currency: str
    attributes: dict[str, Any]
    in_stock: bool
    language: str
    image_url: str | None


class SearchHit(ProductOut):
    score: float
    signals: dict[str, float]


class SearchOut(BaseModel):
    mode: Literal[SEARCH_MODES]
    total: int = Field(description="products that pass the filters")
    relaxed: list[str] = Field(description="constraints read from the query and dropped because nothing matched")
    matched: bool = Field(description="false when the store sells nothing of what the query asks for: none of its "
                                      "words for a product occurs in the catalog (the hits are only the nearest)")
    unmatched: list[str] = Field(description="the query's words for a product that no product's text uses")
    parsed: ParsedQuery | None
    filters: Filters
    facets: dict[str, dict[str, int]]
    hits: list[SearchHit]


class Recommended(ProductOut):
    score: float


class RecommendOut(BaseModel):
    shopper_id: str
    items: list[Recommended]


class ConversationOut(BaseModel):
    """``Conversation.to_dict()``: the state a conversation keeps between turns."""

    id: str
    shopper_id: str
    language: str
    constraints: Constraints
    shown: list[str]
    focus: str | None
    asked_last_turn: bool
    turns: list[Turn]
    updated_ms: int


class EventOut(BaseModel):
    recorded: int
    shopper_id: str
    type: Literal[EVENT_TYPES]


class TokenOut(BaseModel):
    shopper_id: str
    token: str
    expires_in_s: int


class DemoShopper(BaseModel):
    id: str
    language: str
    categories: list[str]
    brands: dict[str, str] = Field(description="favourite brand by category")
    price_level: str
    colour: str | None


class DemoShoppersOut(BaseModel):
    shoppers: list[DemoShopper]


class ServicesInfo(BaseModel):
    """What the server runs now: catalog size, model bundle, LLM."""

    model_config = ConfigDict(extra="allow")
    search: dict[str, Any]
    bundle: str | None
    products: int
    llm: str
    llm_backend: str
    loaded_ms: int
    seconds: float


class ReloadOut(ServicesInfo):
    reloaded: bool


class ImportTotals(BaseModel):
    lines: int
    products_added: int
    products_updated: int
    shoppers_added: int
    events_added: int
    rejected: int
    events_read: int
    products_read: int


class ImportReportOut(BaseModel):
    format: str
    status: Literal["clean", "rejects", "skipped"]
    totals: ImportTotals
    files: list[FileReport]


class ImportOut(BaseModel):
    import_: ImportReportOut = Field(alias="import")
    products: int
    file: str


class HealthOut(BaseModel):
    status: Literal["ok"]
    version: str
    products: int
    bundle: str | None
    llm: str
    loaded_ms: int


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for the error statuses an operation can answer (the app serves them as problem+json)."""
    return {s: {"model": Problem} for s in statuses}
