"""seed-bert: the reference model daogou started from, reproduced as a baseline.

BERT (MiniLM weights) → [CLS] → dropout 0.2 → Linear(hidden, 512) → ReLU → Linear(512, num_products); loss =
cross-entropy over the browsed products + cross-entropy over the purchased products; trained with Adam, lr 1e-5.

What is wrong with it, and why daogou-rec replaces it:

* Its forward pass reads only the text (the shopper's query). The browsing history appears in the *loss* as
  targets but never in the *input*, so two shoppers who type the same words get the same list, whatever they
  looked at or bought before; with no query at all it can only learn one global distribution (≈ popularity).
* Its output layer has one fixed row per product known at training time: a product added later cannot be
  scored at all (cold start is impossible), and products are not described by their content, only by an index.
* Full BERT fine-tuning at lr 1e-5 is slow to train and costly to serve for what it learns.

The module holds no I/O: the caller builds the BERT body (e.g. ``BertModel.from_pretrained``) and passes it in.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class SeedBertConfig:
    n_items: int
    bert_hidden: int = 384
    hidden: int = 512
    dropout: float = 0.2

    def __post_init__(self) -> None:
        if self.n_items < 1:
            raise ValueError("n_items must be >= 1")


class SeedBert(nn.Module):
    def __init__(self, config: SeedBertConfig, bert: nn.Module):
        super().__init__()
        self.config = config
        self.bert = bert
        self.head = nn.Sequential(nn.Dropout(config.dropout), nn.Linear(config.bert_hidden, config.hidden),
                                  nn.ReLU(), nn.Linear(config.hidden, config.n_items))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, browsed: torch.Tensor | None = None,
                purchased: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Scores [B, n_items + 1] (column 0 = padding, -inf); loss when ``browsed``/``purchased`` (multi-hot
        [B, n_items + 1]) are given. Note: neither target set is an input — that is the reference design."""
        cls = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state[:, 0]
        logits = self.head(cls)
        scores = torch.cat([logits.new_full((len(logits), 1), float("-inf")), logits], dim=1)
        if browsed is None and purchased is None:
            return scores, None
        log_p = F.log_softmax(logits, dim=1)
        loss = logits.new_zeros(())
        for targets in (browsed, purchased):
            if targets is not None:
                loss = loss + _multi_ce(log_p, targets[:, 1:])
        return scores, loss


def _multi_ce(log_p: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Cross-entropy against a multi-hot target set (uniform over its items), mean over rows that have one."""
    totals = targets.sum(1)
    rows = totals > 0
    if not rows.any():
        return log_p.new_zeros(())
    return (-(log_p[rows] * targets[rows]).sum(1) / totals[rows]).mean()
