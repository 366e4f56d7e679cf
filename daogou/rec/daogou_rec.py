"""daogou-rec: a causal transformer over the shopper's event sequence, scoring items by content-aware vectors.

Item vector = ID embedding (masked for items without training history) + embedding-bag of content tokens
+ projection of the text embedding (+ image features when given). Input token = item vector + event-type
embedding + position + time-gap bucket; a start token lets an empty history (a new shopper) still produce a
state. The state at each position, plus a projection of the active query's embedding, is dotted with every item
vector: new products with content are scorable at once, and a query alone is enough to start.

Loss: softmax cross-entropy over the catalog at every position in one pass (each target weighted by its event
type, purchase > cart > fav > view), or for large catalogs sampled softmax against the history's own items and
uniform negatives, the repeat bonus and query match trained in both — the reference model's "CE(browsed) +
CE(purchased)" generalised to sequences. No I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from daogou.encode.fusion import FusionConfig, build_fusion
from daogou.rec.sequences import N_GAP_BUCKETS, N_TYPES

REPEAT_SCALE = 10.0  # repeat bonus and query match are a few scalars: scaled so Adam moves them at a useful pace


@dataclass
class DaogouRecConfig:
    n_items: int
    n_tokens: int = 1
    text_dim: int = 0          # 0: no text features
    image_dim: int = 0         # 0: no image features
    query_dim: int = 0         # 0: no query conditioning
    dim: int = 64
    layers: int = 2
    heads: int = 2
    max_len: int = 50
    dropout: float = 0.3
    emb_dropout: float = 0.3
    sampled_softmax_above: int = 50_000   # catalogs larger than this train with sampled negatives
    negatives: int = 4096
    use_ids: bool = True
    id_dropout: float = 0.0    # training: this share of items is scored without its ID vector each step, so the
                               # content part must carry them as it carries products never seen in training
    fusion: str = "sum"        # text + image: sum of projections | concat | gated (daogou.encode.fusion)
    id_free_bias: bool = False  # with id_dropout: a learned score offset for items scored without an ID vector
                                # (calibrates new products, which have none, against items that have one)
    unseen_negatives: bool = True  # False: items without training events are left out of the loss's candidates
                                   # (new products, not ones shoppers passed over), so content alone ranks them
    content_head: float = 0.0  # > 0: a second loss, this weighted, scores every item by its content alone (its ID
                               # left out); items with no trained ID are then ranked by that head, both heads as
                               # log-probabilities, so a new product is ranked by what it is and a known one by
                               # all that was learned of it (full softmax only)
    filter_alpha: float = 0.0  # > 0: every layer mixes a low-pass filter of the sequence with attention,
                               # alpha·filter + (1 − alpha)·attention (BSARec's inductive bias, made causal)
    filter_c: int = 5          # frequency components the low-pass keeps (of max_len)
    filter_causal: bool = True  # False: BSARec's own form, the low-pass over the whole window (circular); a
                                # position then sees later events, so training reads only the last position of
                                # every prefix (one window per event: more steps per epoch)

    def __post_init__(self) -> None:
        if self.fusion not in ("sum", "concat", "gated"):
            raise ValueError(f"fusion must be sum, concat or gated, got {self.fusion!r}")
        if self.fusion != "sum" and not (self.text_dim and self.image_dim):
            raise ValueError(f"fusion {self.fusion!r} needs both text and image features")
        if not 0.0 <= self.id_dropout < 1.0:
            raise ValueError(f"id_dropout must be in [0, 1), got {self.id_dropout}")
        if self.n_items < 1:
            raise ValueError("n_items must be >= 1")
        if self.dim % self.heads:
            raise ValueError(f"dim ({self.dim}) must be divisible by heads ({self.heads})")
        if self.max_len < 2:
            raise ValueError("max_len must be >= 2")
        if not 0.0 <= self.filter_alpha <= 1.0:
            raise ValueError(f"filter_alpha must be in [0, 1], got {self.filter_alpha}")
        if not self.filter_causal and not self.filter_alpha:
            raise ValueError("filter_causal=False needs filter_alpha > 0")
        if self.content_head < 0:
            raise ValueError(f"content_head must be >= 0, got {self.content_head}")
        if self.content_head and not self.use_ids:
            raise ValueError("content_head needs use_ids (without IDs every item is already scored by content)")
        if self.filter_alpha and not 1 <= self.filter_c <= self.max_len // 2:
            raise ValueError(f"filter_c must be in [1, max_len // 2], got {self.filter_c}")


class DaogouRec(nn.Module):
    def __init__(self, config: DaogouRecConfig):
        super().__init__()
        c = self.config = config
        self.item_id = nn.Embedding(c.n_items + 1, c.dim, padding_idx=0)
        self.tokens = nn.Embedding(max(c.n_tokens, 1), c.dim, padding_idx=0)
        fuse = c.fusion != "sum"
        self.fusion = build_fusion(FusionConfig(c.fusion, c.text_dim, c.image_dim, c.dim)) if fuse else None
        self.text_proj = nn.Linear(c.text_dim, c.dim) if c.text_dim and not fuse else None
        self.image_proj = nn.Linear(c.image_dim, c.dim) if c.image_dim and not fuse else None
        self.query_proj = nn.Sequential(nn.Linear(c.query_dim, c.dim), nn.GELU(), nn.Linear(c.dim, c.dim)) \
            if c.query_dim else None
        self.type_emb = nn.Embedding(N_TYPES, c.dim)
        self.target_type_emb = nn.Embedding(N_TYPES, c.dim)  # which kind of next event is asked for
        # Repeat bonus: an item already in the history gains rep_type[asked type, its event type] +
        # rep_recency[distance] (carted → bought; re-purchases). Starts at 0; learned.
        self.rep_type = nn.Parameter(torch.zeros(N_TYPES, N_TYPES))
        self.rep_recency = nn.Parameter(torch.zeros(c.max_len))
        # Query ↔ product text match, when both come from the same text encoder: a learned weight on their cosine
        # similarity, so a query finds matching products from the first step (and new products too).
        self.query_match = nn.Parameter(torch.tensor(0.5)) if c.query_dim and c.query_dim == c.text_dim else None
        self.id_free = nn.Parameter(torch.zeros(())) if c.id_free_bias and c.use_ids else None
        self.gap_emb = nn.Embedding(N_GAP_BUCKETS, c.dim)
        self.pos_emb = nn.Embedding(c.max_len, c.dim)
        if c.filter_alpha:
            self.encoder = _FilteredEncoder(c)
        else:
            layer = nn.TransformerEncoderLayer(c.dim, c.heads, 4 * c.dim, c.dropout, activation="gelu",
                                               batch_first=True, norm_first=True)
            self.encoder = nn.TransformerEncoder(layer, c.layers, enable_nested_tensor=False)
        self.norm_in, self.norm_out = nn.LayerNorm(c.dim), nn.LayerNorm(c.dim)
        self.drop = nn.Dropout(c.emb_dropout)
        # Content is data, not weights: set with set_content, saved by the caller beside the weights.
        self.register_buffer("item_tokens", torch.zeros(c.n_items + 1, 1, dtype=torch.long), persistent=False)
        self.register_buffer("item_text", torch.zeros(c.n_items + 1, max(c.text_dim, 1)), persistent=False)
        self.register_buffer("item_image", torch.zeros(c.n_items + 1, max(c.image_dim, 1)), persistent=False)
        self.register_buffer("id_known", torch.zeros(c.n_items + 1), persistent=False)
        self.register_buffer("token_bag", _mean_bag(self.item_tokens, c.n_tokens), persistent=False)
        for emb in (self.item_id, self.tokens, self.type_emb, self.target_type_emb, self.gap_emb, self.pos_emb):
            nn.init.normal_(emb.weight, std=0.02)  # one scale: item identity must not drown in position/type

    # ------------------------------------------------------------------ items
    def set_content(self, tokens: torch.Tensor, text: torch.Tensor | None = None,
                    image: torch.Tensor | None = None, id_known: torch.Tensor | None = None) -> None:
        """Content rows for items 0..N (row 0 padding); ``id_known`` marks items whose ID vector was trained."""
        self._vector_cache = self._content_cache = None
        self.item_tokens = tokens.long()
        self.token_bag = _mean_bag(self.item_tokens, self.config.n_tokens)
        if text is not None:
            self.item_text = text.float()
        if image is not None:
            self.item_image = image.float()
        if id_known is not None:
            self.id_known = id_known.float()

    def grow_items(self, n_items: int) -> None:
        """Room for products added after training: their ID rows are zero and unknown (content only)."""
        extra = n_items - self.config.n_items
        if extra <= 0:
            return
        weight = self.item_id.weight.data
        self.item_id = nn.Embedding.from_pretrained(
            torch.cat([weight, weight.new_zeros(extra, weight.shape[1])]), freeze=False, padding_idx=0)
        self.id_known = torch.cat([self.id_known, self.id_known.new_zeros(extra)])
        self.config.n_items = n_items
        self._vector_cache = self._content_cache = None

    def item_vectors(self) -> torch.Tensor:
        """[N + 1, dim] vectors of every item (row 0 is padding). Cached for inference (eval mode, no grad):
        serving scores one shopper at a time and the item table is the expensive part."""
        return self._cached("_vector_cache", self._item_vectors)

    def content_vectors(self) -> torch.Tensor:
        """[N + 1, dim] content-only vectors (the content head's), cached for inference like :meth:`item_vectors`."""
        return self._cached("_content_cache", self._content_vectors)

    def _cached(self, attr: str, compute) -> torch.Tensor:
        inference = not self.training and not torch.is_grad_enabled()
        cached = getattr(self, attr, None)
        if inference and cached is not None:
            return cached
        vec = compute()
        setattr(self, attr, vec if inference else None)
        return vec

    def train(self, mode: bool = True) -> "DaogouRec":
        if mode or mode != self.training:
            self._vector_cache = self._content_cache = None
        return super().train(mode)

    def load_state_dict(self, *args, **kwargs):
        self._vector_cache = self._content_cache = None
        return super().load_state_dict(*args, **kwargs)

    def _item_vectors(self) -> torch.Tensor:
        c = self.config
        vec = self._content_vectors()
        if c.use_ids:
            weight = self._id_weight(self.id_known)
            self._id_free_full = 1.0 - weight
            vec = vec + self.item_id.weight * weight[:, None]
        return vec

    def _content_vectors(self) -> torch.Tensor:
        """[N + 1, dim]: what each item's content alone says (attribute tokens, text, image), no ID."""
        vec = torch.sparse.mm(self.token_bag, self.tokens.weight)
        if self.text_proj is not None:
            vec = vec + self.text_proj(self.item_text)
        if self.image_proj is not None:
            vec = vec + self.image_proj(self.item_image)
        if self.fusion is not None:
            vec = vec + self.fusion(self.item_text, self.item_image)[0]
        return vec

    def item_vectors_at(self, rows: torch.Tensor) -> torch.Tensor:
        """[len(rows), dim]: the same vectors as ``item_vectors()[rows]``, computed for ``rows`` only (what
        sampled-softmax training needs: with a million items the full table is the expensive part)."""
        c = self.config
        tok = self.item_tokens[rows]
        present = (tok > 0).float()
        vec = (self.tokens(tok) * present[..., None]).sum(1) / present.sum(1, keepdim=True).clamp_min(1.0)
        if c.use_ids:
            weight = self._id_weight(self.id_known[rows])
            self._id_free_rows = 1.0 - weight
            vec = vec + self.item_id(rows) * weight[:, None]
        if self.text_proj is not None:
            vec = vec + self.text_proj(self.item_text[rows])
        if self.image_proj is not None:
            vec = vec + self.image_proj(self.item_image[rows])
        if self.fusion is not None:
            vec = vec + self.fusion(self.item_text[rows], self.item_image[rows])[0]
        return vec

    def _id_weight(self, known: torch.Tensor) -> torch.Tensor:
        """1 where an item's ID vector counts: trained IDs, less a random ``id_dropout`` share while training."""
        if not self.training or not self.config.id_dropout:
            return known
        return known * (torch.rand_like(known) >= self.config.id_dropout)

    # ------------------------------------------------------------------ sequence
    def encode(self, items: torch.Tensor, types: torch.Tensor, gaps: torch.Tensor,
               item_vecs: torch.Tensor) -> torch.Tensor:
        """[B, L] left-padded inputs → [B, L, dim] causal states."""
        length = items.shape[1]
        pos = torch.arange(length - 1, -1, -1, device=items.device)  # distance from the newest slot
        x = item_vecs[items] + self.type_emb(types) + self.gap_emb(gaps) + self.pos_emb(pos)[None]
        x = self.drop(self.norm_in(x))
        mask = self._attention_mask(types)
        h = self.encoder(x, mask, types > 0) if self.config.filter_alpha else self.encoder(x, mask=mask)
        return self.norm_out(h)

    def _attention_mask(self, types: torch.Tensor) -> torch.Tensor:
        """[B·heads, L, L], True = blocked: causal, padding keys blocked, and every position may see itself (so
        padding rows never become all-blocked, which would turn them into NaN)."""
        length = types.shape[1]
        causal = torch.triu(torch.ones(length, length, dtype=torch.bool, device=types.device), 1)
        mask = causal[None] | (types == 0)[:, None, :]
        mask = mask & ~torch.eye(length, dtype=torch.bool, device=types.device)[None]
        return mask.repeat_interleave(self.config.heads, dim=0)

    def condition(self, h: torch.Tensor, queries: torch.Tensor | None,
                  target_types: torch.Tensor | None) -> torch.Tensor:
        """Add what is asked for to each state: the kind of next event (e.g. purchase) and the active query's
        projection (``queries``: [..., query_dim], zeros = no query)."""
        if target_types is not None:
            h = h + self.target_type_emb(target_types)
        if self.query_proj is None or queries is None:
            return h
        present = (queries.abs().sum(-1, keepdim=True) > 0).float()
        return h + self.query_proj(queries) * present

    def forward(self, items: torch.Tensor, types: torch.Tensor, gaps: torch.Tensor,
                queries: torch.Tensor | None = None, target_types: torch.Tensor | None = None,
                targets: torch.Tensor | None = None,
                weights: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Training (``targets`` [B, L] given; ``queries`` [B, L, Q] and ``target_types`` [B, L] per position):
        scores at target positions and the weighted loss. Inference (``queries`` [B, Q], ``target_types`` [B]):
        [B, N + 1] scores for the next item after each sequence (column 0 is -inf)."""
        if targets is not None and self.config.n_items > self.config.sampled_softmax_above:
            if self.config.content_head:
                raise ValueError("content_head trains with the full softmax only; this catalog trains sampled")
            return self._sampled_forward(items, types, gaps, queries, target_types, targets, weights)
        item_vecs = self.item_vectors()
        h = self.encode(items, types, gaps, item_vecs)
        length = items.shape[1]
        if targets is None:
            state = self.condition(h[:, -1], queries, target_types)
            scores = state @ item_vecs.T
            asked = target_types if target_types is not None else torch.zeros_like(items[:, 0])
            slots = torch.full_like(asked, length - 1)
            self._add_repeat_bonus(scores, items, types, asked, slots)
            self._add_query_match(scores, queries)
            if self.id_free is not None:
                scores += REPEAT_SCALE * self.id_free * (1.0 - self.id_known)[None]
            scores[:, 0] = float("-inf")
            if self.config.content_head and bool((self.id_known[1:] == 0).any()):
                # items without a trained ID by the content head; both heads as log-probabilities
                by_content = state @ self.content_vectors().T
                self._add_repeat_bonus(by_content, items, types, asked, slots)
                self._add_query_match(by_content, queries)
                by_content[:, 0] = float("-inf")
                scores = torch.where(self.id_known[None] > 0, F.log_softmax(scores, -1), F.log_softmax(by_content, -1))
            return scores, None
        sel = targets > 0
        q_t = None if queries is None else queries[sel]
        h_t = self.condition(h[sel], q_t, None if target_types is None else target_types[sel])
        rows, slots = torch.nonzero(sel, as_tuple=True)
        asked = target_types[sel] if target_types is not None else torch.zeros_like(rows)

        def extras(sc: torch.Tensor, ids: bool = True) -> None:
            self._add_repeat_bonus(sc, items[rows], types[rows], asked, slots)
            self._add_query_match(sc, q_t)
            if self.id_free is not None and ids:
                sc += REPEAT_SCALE * self.id_free * self._id_free_full[None]
        scores, loss = self._loss(h_t, targets[sel], weights[sel], item_vecs, extras)
        if self.config.content_head:  # the same targets, every item scored by its content alone
            _, by_content = self._loss(h_t, targets[sel], weights[sel], self._content_vectors(),
                                       lambda sc: extras(sc, ids=False))
            loss = loss + self.config.content_head * by_content
        return scores, loss

    def _add_query_match(self, scores: torch.Tensor, queries: torch.Tensor | None) -> None:
        """scores += w · cos(query, product text) for rows that have a query (in place)."""
        if self.query_match is None or queries is None:
            return
        has = queries.abs().sum(-1) > 0
        if not has.any():
            return
        q = F.normalize(queries[has], dim=-1)
        t = F.normalize(self.item_text, dim=-1)
        scores[has] += REPEAT_SCALE * self.query_match * (q @ t.T)

    def _repeat_bonus(self, items: torch.Tensor, types: torch.Tensor, asked: torch.Tensor,
                      slots: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """([P, L] bonus each input slot j gives its item for position p — 0 where j > slots[p] or empty —,
        [P, L] whether slot j is visible from p)."""
        j = torch.arange(items.shape[1], device=items.device)[None]
        visible = (j <= slots[:, None]) & (items > 0)
        distance = (slots[:, None] - j).clamp(0, self.config.max_len - 1)
        bonus = REPEAT_SCALE * (self.rep_type[asked[:, None], types] + self.rep_recency[distance])
        return bonus * visible, visible

    def _add_repeat_bonus(self, scores: torch.Tensor, items: torch.Tensor, types: torch.Tensor,
                          asked: torch.Tensor, slots: torch.Tensor) -> None:
        """scores[p, items[p, j]] += bonus for every input slot j <= slots[p] holding an item (in place)."""
        scores.scatter_add_(1, items, self._repeat_bonus(items, types, asked, slots)[0])

    def _loss(self, h: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor, item_vecs: torch.Tensor,
              extras) -> tuple[torch.Tensor, torch.Tensor]:
        scores = h @ item_vecs.T
        extras(scores)
        scores[:, 0] = float("-inf")
        if not self.config.unseen_negatives:
            scores = scores.masked_fill(self.id_known[None] == 0, float("-inf"))
        ce = F.cross_entropy(scores, targets, reduction="none")
        return scores, (ce * weights).sum() / weights.sum().clamp_min(1e-6)

    def _sampled_forward(self, items: torch.Tensor, types: torch.Tensor, gaps: torch.Tensor,
                         queries: torch.Tensor | None, target_types: torch.Tensor | None, targets: torch.Tensor,
                         weights: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Sampled softmax for large catalogs: each target against the items already in its visible history
        (the hard negatives, which carry the repeat bonus exactly as full scoring adds it) and ``negatives``
        uniform items; only the vectors of the items in the batch and of the sampled ones are computed.

        Scores are [targets, 1 + L + negatives]: the target, the history slots (each distinct item once, the
        target itself masked), then the uniform sample. A uniform sample that happens to be a history item is
        scored without its repeat bonus (about L·negatives/N of the sample; the history columns hold it with)."""
        c = self.config
        sel = targets > 0
        wanted = targets[sel]
        negatives = torch.randint(1, c.n_items + 1, (c.negatives,), device=items.device)
        rows, local = torch.unique(torch.cat([items.reshape(-1), wanted, negatives]), return_inverse=True)
        vecs = self.item_vectors_at(rows)
        n, t = items.numel(), len(wanted)
        local_items = local[:n].view_as(items)
        h = self.encode(local_items, types, gaps, vecs)
        q_t = None if queries is None else queries[sel]
        h_t = self.condition(h[sel], q_t, None if target_types is None else target_types[sel])
        at, slots = torch.nonzero(sel, as_tuple=True)
        asked = target_types[sel] if target_types is not None else torch.zeros_like(at)
        hist = items[at]  # [t, L]: what each target position could see
        bonus, visible = self._repeat_bonus(hist, types[at], asked, slots)
        j = torch.arange(items.shape[1], device=items.device)[None]
        same = hist[:, :, None] == hist[:, None, :]                       # [t, L, L]
        hist_bonus = torch.bmm(same.to(bonus.dtype), bonus[:, :, None]).squeeze(-1)  # an item's bonus, all slots
        first = ~(same & (j[:, None, :] < j[:, :, None]) & visible[:, None, :]).any(-1)
        hist_ok = visible & first & (hist != wanted[:, None])
        pos = (h_t * vecs[local[n:n + t]]).sum(-1, keepdim=True) + (bonus * (hist == wanted[:, None])).sum(1,
                                                                                                        True)
        past = torch.bmm(vecs[local_items[at]], h_t[:, :, None]).squeeze(-1) + hist_bonus
        past = past.masked_fill(~hist_ok, float("-inf"))
        skip = negatives[None] == wanted[:, None]
        if not c.unseen_negatives:
            skip = skip | (self.id_known[negatives] == 0)[None]
        neg = (h_t @ vecs[local[n + t:]].T).masked_fill(skip, float("-inf"))
        scores = torch.cat([pos, past, neg], dim=1)
        if self.id_free is not None:
            free = self._id_free_rows
            scores = scores + REPEAT_SCALE * self.id_free * torch.cat(
                [free[local[n:n + t]][:, None], free[local_items[at]], free[local[n + t:]][None].expand(t, -1)], 1)
        if self.query_match is not None and q_t is not None:
            candidates = torch.cat([wanted[:, None], hist, negatives[None].expand(t, -1)], dim=1)
            has = (q_t.abs().sum(-1, keepdim=True) > 0).float()
            cos = (F.normalize(self.item_text[candidates], dim=-1) * F.normalize(q_t, dim=-1)[:, None]).sum(-1)
            scores = scores + REPEAT_SCALE * self.query_match * cos * has
        ce = F.cross_entropy(scores, torch.zeros(t, dtype=torch.long, device=h.device), reduction="none")
        w = weights[sel]
        return scores, (ce * w).sum() / w.sum().clamp_min(1e-6)


class _FilteredEncoder(nn.Module):
    """Pre-norm transformer layers whose mixing step is ``alpha·filter(x) + (1 − alpha)·attention(x)``.

    The filter is BSARec's (AAAI 2024) frequency inductive bias: keeping the ``c`` lowest frequencies of a window
    of N = max_len slots is a circular convolution with ``k[d] = (1 + 2·Σ_{f=1}^{c−1} cos(2πfd/N)) / N``. In
    causal form (the default) each position reads only lags d ≥ 0 — the low-pass of the prefix ending there —
    so every position trains in one pass; ``filter_causal=False`` is BSARec's own whole-window filter, trained
    on prefixes. The high-pass rest
    (``x − low``) comes back scaled by a learned per-dimension ``β²``."""

    def __init__(self, c: DaogouRecConfig):
        super().__init__()
        self.alpha, self.causal = c.filter_alpha, c.filter_causal
        lags = torch.arange(c.max_len, dtype=torch.float32)
        freqs = torch.arange(1, c.filter_c, dtype=torch.float32)
        kernel = (1 + 2 * torch.cos(2 * torch.pi * freqs[:, None] * lags[None] / c.max_len).sum(0)) / c.max_len
        self.register_buffer("kernel", kernel, persistent=False)
        self.layers = nn.ModuleList(_FilteredLayer(c) for _ in range(c.layers))

    def forward(self, x: torch.Tensor, mask: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
        length = x.shape[1]
        idx = torch.arange(length, device=x.device)
        lag = idx[:, None] - idx[None, :]
        if self.causal:
            toeplitz = torch.where(lag >= 0, self.kernel[lag.clamp(0, len(self.kernel) - 1)], 0.0)  # [L, L]
        else:  # the whole window's low-pass: circular over max_len (padding slots are zero, so trimming a
            toeplitz = self.kernel[lag % len(self.kernel)]  # left-padded window to its width changes nothing)
        keep = present[..., None].to(x.dtype)
        for layer in self.layers:
            x = layer(x, mask, toeplitz, keep, self.alpha)
        return x


class _FilteredLayer(nn.Module):
    def __init__(self, c: DaogouRecConfig):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(c.dim), nn.LayerNorm(c.dim)
        self.attn = nn.MultiheadAttention(c.dim, c.heads, dropout=c.dropout, batch_first=True)
        self.ff = nn.Sequential(nn.Linear(c.dim, 4 * c.dim), nn.GELU(), nn.Dropout(c.dropout),
                                nn.Linear(4 * c.dim, c.dim))
        self.drop1, self.drop2 = nn.Dropout(c.dropout), nn.Dropout(c.dropout)
        self.sqrt_beta = nn.Parameter(torch.randn(c.dim))

    def forward(self, x: torch.Tensor, mask: torch.Tensor, toeplitz: torch.Tensor, keep: torch.Tensor,
                alpha: float) -> torch.Tensor:
        z = self.norm1(x)
        attended = self.attn(z, z, z, attn_mask=mask, need_weights=False)[0]
        z = z * keep                                   # padding slots carry nothing into the filter
        low = torch.einsum("tk,bkd->btd", toeplitz, z)
        filtered = low + self.sqrt_beta ** 2 * (z - low)
        x = x + self.drop1(alpha * filtered + (1 - alpha) * attended)
        return x + self.drop2(self.ff(self.norm2(x)))


def _mean_bag(tokens: torch.Tensor, n_tokens: int) -> torch.Tensor:
    """Sparse [items, vocab] matrix averaging each item's non-padding tokens (a bag of embeddings as one matmul)."""
    rows, cols = torch.nonzero(tokens > 0, as_tuple=True)
    counts = (tokens > 0).sum(1).clamp_min(1).float()
    values = 1.0 / counts[rows]
    index = torch.stack([rows, tokens[rows, cols]])
    return torch.sparse_coo_tensor(index, values, (tokens.shape[0], max(n_tokens, 1)), check_invariants=False).coalesce()
