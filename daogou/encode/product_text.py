"""How a product reads to an encoder or a lexical index: title, brand, category, attributes, description."""

from __future__ import annotations

from daogou.catalog.models import Product

DESCRIPTION_CHARS = 300


def product_text(p: Product, languages: tuple[str, ...] = ("en", "zh"), full: bool = True) -> str:
    """One passage per product holding its text in every language the encoder reads (primary first).

    ``full=False`` keeps titles, brand and category only: what dense encoders need, at a fraction of the
    tokens (encoding cost grows with length); lexical indexes take the full text.
    """
    parts: list[str] = []
    langs = [p.language or "en", *[lang for lang in p.translations if lang != p.language]]
    for lang in langs:
        if lang not in languages and not (lang == "" and "en" in languages):
            continue
        title, description = p.text(lang)
        category = p.translations.get(lang, {}).get("category") if lang != p.language else None
        parts.append(" ".join(x for x in (title, p.brand if lang == langs[0] else "",
                                          category or " > ".join(p.category),
                                          description[:DESCRIPTION_CHARS] if full else "") if x))
    if not parts:  # no text in a language the encoder reads: fall back to whatever there is
        parts.append(" ".join(x for x in (p.title, p.brand, " > ".join(p.category)) if x))
    attrs = "; ".join(f"{k}: {v}" for k, v in sorted(p.attributes.items())
                      if isinstance(v, (str, int, float)) and len(str(v)) <= 40)
    return " | ".join(parts + ([attrs] if attrs and full else []))
