"""Text + image fusion of product vectors, selectable by name.

- ``concat``: the reference ``x_f = [x_t; x_i]``, then a learned projection to ``out_dim``.
- ``gated``: both modalities projected to ``out_dim``; a learned per-dimension gate ``g = σ(W[x_t; x_i] + b)``
  mixes them, ``x_f = g ⊙ P_t x_t + (1 − g) ⊙ P_i x_i``. Products without a picture (``has_image`` False) take
  the text side only (g = 1), so a missing image never pulls a product toward "zero-picture" space.

Both are plain ``nn.Module`` s trained by whoever owns the loss (the recommender trains them end to end; the
benchmark trains them with a linear probe). ``concat_vectors`` is the untrained form the search index uses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from daogou.encode.base import normalise
from daogou.errors import ConfigError, UnknownNameError

FUSIONS = ("concat", "gated")


@dataclass(frozen=True)
class FusionConfig:
    kind: str
    text_dim: int
    image_dim: int
    out_dim: int
    dropout: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in FUSIONS:
            raise UnknownNameError("fusion", self.kind, list(FUSIONS))
        if min(self.text_dim, self.image_dim, self.out_dim) < 1:
            raise ConfigError("fusion needs text_dim, image_dim and out_dim >= 1")


def _mask(x_i: torch.Tensor, has_image: torch.Tensor | None) -> torch.Tensor:
    if has_image is None:
        has_image = x_i.abs().sum(-1) > 0
    return has_image.to(x_i.dtype).unsqueeze(-1)


class ConcatFusion(nn.Module):
    def __init__(self, cfg: FusionConfig):
        super().__init__()
        self.config = cfg
        self.drop = nn.Dropout(cfg.dropout)
        self.proj = nn.Linear(cfg.text_dim + cfg.image_dim, cfg.out_dim)

    def forward(self, x_t: torch.Tensor, x_i: torch.Tensor,
                has_image: torch.Tensor | None = None) -> tuple[torch.Tensor, None]:
        x_i = x_i * _mask(x_i, has_image)
        return self.proj(self.drop(torch.cat([x_t, x_i], dim=-1))), None


class GatedFusion(nn.Module):
    def __init__(self, cfg: FusionConfig):
        super().__init__()
        self.config = cfg
        self.drop = nn.Dropout(cfg.dropout)
        self.text_proj = nn.Linear(cfg.text_dim, cfg.out_dim)
        self.image_proj = nn.Linear(cfg.image_dim, cfg.out_dim)
        self.gate = nn.Linear(cfg.text_dim + cfg.image_dim, cfg.out_dim)
        nn.init.zeros_(self.gate.weight)
        nn.init.constant_(self.gate.bias, 1.0)  # start leaning on text (σ(1) ≈ 0.73); images earn their share

    def gate_values(self, x_t: torch.Tensor, x_i: torch.Tensor,
                    has_image: torch.Tensor | None = None) -> torch.Tensor:
        m = _mask(x_i, has_image)
        g = torch.sigmoid(self.gate(torch.cat([x_t, x_i * m], dim=-1)))
        return g * m + (1 - m)

    def forward(self, x_t: torch.Tensor, x_i: torch.Tensor,
                has_image: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(fused vectors, gate values); the gate is returned for inspection, it is not a loss."""
        g = self.gate_values(x_t, x_i, has_image)
        fused = g * self.text_proj(self.drop(x_t)) + (1 - g) * self.image_proj(self.drop(x_i))
        return fused, g


def build_fusion(cfg: FusionConfig) -> nn.Module:
    return ConcatFusion(cfg) if cfg.kind == "concat" else GatedFusion(cfg)


def concat_vectors(text: np.ndarray, image: np.ndarray, image_weight: float = 0.5,
                   has_image: np.ndarray | None = None) -> np.ndarray:
    """Untrained concat for retrieval: ``normalise([x_t; w·x_i])`` (rows without a picture keep text only).

    With a query ``[q; q]`` the inner product is ``cos(q, x_t) + w·cos(q, x_i)`` up to the row norm, so
    ``x_i`` must live in the query's space (the aligned image vectors of :mod:`daogou.encode.align`).
    """
    image = np.asarray(image, np.float32)
    if has_image is not None:
        image = image * has_image[:, None]
    return normalise(np.concatenate([np.asarray(text, np.float32), image_weight * image], axis=1))
