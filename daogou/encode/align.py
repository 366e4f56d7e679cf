"""Text–image alignment learned on the store itself: an image → text-space projection head trained with InfoNCE.

No packaged CLIP exists here, so the store's own (title, picture) pairs teach a small head to map image features
into the frozen text encoder's space. A text query then scores pictures directly: "red dress" finds dresses that
are red only in the picture, and a shopper's photo finds similar-looking products.

Saved heads are folders: ``config.json`` (the head's shape and the two encoders it joins), ``weights.safetensors``
and ``manifest.json`` (format version, daogou version, sha256 per file, training metrics). No pickle.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from daogou.errors import ConfigError

FORMAT_VERSION = 1


@dataclass(frozen=True)
class AlignConfig:
    image_dim: int
    text_dim: int
    hidden: int = 512
    dropout: float = 0.1
    temperature: float = 0.07     # initial; learned (as CLIP's logit scale), clamped to ≥ 0.01
    epochs: int = 60
    batch_size: int = 256
    lr: float = 2e-3
    weight_decay: float = 1e-4
    seed: int = 0
    threads: int | None = 1       # a small head: one thread is fastest on a shared CPU (None: torch's default)


class AlignHead(nn.Module):
    """``forward(image, text=None)`` → (unit vectors in text space, symmetric InfoNCE loss when text is given)."""

    def __init__(self, cfg: AlignConfig):
        super().__init__()
        self.config = cfg
        self.mlp = nn.Sequential(nn.Linear(cfg.image_dim, cfg.hidden), nn.GELU(), nn.Dropout(cfg.dropout),
                                 nn.Linear(cfg.hidden, cfg.text_dim))
        self.skip = nn.Linear(cfg.image_dim, cfg.text_dim, bias=False)
        self.logit_scale = nn.Parameter(torch.tensor(float(np.log(1.0 / cfg.temperature))))

    def forward(self, image: torch.Tensor, text: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor | None]:
        z = F.normalize(self.mlp(image) + self.skip(image), dim=-1)
        if text is None:
            return z, None
        t = F.normalize(text, dim=-1)
        logits = z @ t.T * self.logit_scale.clamp(max=float(np.log(100.0))).exp()
        labels = torch.arange(len(z), device=z.device)
        return z, (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2


@dataclass
class AlignResult:
    head: AlignHead
    losses: list[float]


def train_alignment(image: np.ndarray, text: np.ndarray, cfg: AlignConfig,
                    log: Callable[[str], None] | None = None) -> AlignResult:
    """Train on paired rows (row i of ``image`` shows the product whose text vector is row i of ``text``)."""
    if len(image) != len(text) or len(image) < 2:
        raise ConfigError(f"alignment needs ≥ 2 paired rows; got {len(image)} images and {len(text)} texts")
    if image.shape[1] != cfg.image_dim or text.shape[1] != cfg.text_dim:
        raise ConfigError(f"alignment: vectors are {image.shape[1]}/{text.shape[1]}-d, the head expects "
                          f"{cfg.image_dim}/{cfg.text_dim}")
    torch.manual_seed(cfg.seed)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    rng = np.random.default_rng(cfg.seed)
    head = AlignHead(cfg)
    opt = torch.optim.AdamW(head.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    x, y = torch.from_numpy(np.asarray(image, np.float32)), torch.from_numpy(np.asarray(text, np.float32))
    steps = cfg.epochs * max(1, -(-len(x) // cfg.batch_size))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=steps, pct_start=0.1)
    losses = []
    head.train()
    for epoch in range(cfg.epochs):
        order, total, count = rng.permutation(len(x)), 0.0, 0
        for lo in range(0, len(x), cfg.batch_size):
            idx = torch.from_numpy(order[lo:lo + cfg.batch_size])
            if len(idx) < 2:
                continue
            _, loss = head(x[idx], y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total, count = total + loss.item() * len(idx), count + len(idx)
        losses.append(total / max(count, 1))
        if log and (epoch + 1) % 10 == 0:
            log(f"align epoch {epoch + 1}/{cfg.epochs}: InfoNCE {losses[-1]:.4f}")
    head.eval()
    return AlignResult(head, losses)


@torch.no_grad()
def project(head: AlignHead, image: np.ndarray, has_image: np.ndarray | None = None) -> np.ndarray:
    """Image features → unit vectors in the text space (rows without a picture stay zero)."""
    head.eval()
    z = head(torch.from_numpy(np.asarray(image, np.float32)))[0].numpy()
    if has_image is not None:
        z = z * has_image[:, None]
    return z.astype(np.float32)


def recall_at_k(queries: np.ndarray, items: np.ndarray, k: int = 10) -> float:
    """Query i's one relevant item is item i; the share of queries that find it in their top ``k``."""
    sims = queries @ items.T
    own = np.diag(sims)
    rank = (sims > own[:, None]).sum(1)
    return float((rank < k).mean())


# ---------------------------------------------------------------- persistence

def save_head(head: AlignHead, folder: Path, encoders: dict[str, str], metrics: dict | None = None) -> Path:
    from safetensors.torch import save_file

    import daogou
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in head.state_dict().items()}, str(folder / "weights.safetensors"))
    (folder / "config.json").write_text(json.dumps({"head": asdict(head.config), "encoders": encoders}, indent=2))
    files = {name: _sha256(folder / name) for name in ("config.json", "weights.safetensors")}
    manifest = {"format": "daogou-align-head", "version": FORMAT_VERSION,
                "daogou": getattr(daogou, "__version__", "0"), "files": files, "metrics": metrics or {}}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return folder


def load_head(folder: Path) -> tuple[AlignHead, dict]:
    """The head and its config (with ``encoders``); refuses unknown versions and changed files."""
    from safetensors.torch import load_file
    folder = Path(folder)
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{folder}: not a saved alignment head ({exc})") from None
    if manifest.get("format") != "daogou-align-head" or manifest.get("version") != FORMAT_VERSION:
        raise ConfigError(f"{folder}: unsupported alignment head format {manifest.get('format')!r} "
                          f"version {manifest.get('version')!r}")
    for name, digest in manifest.get("files", {}).items():
        if not (folder / name).is_file() or _sha256(folder / name) != digest:
            raise ConfigError(f"{folder / name}: missing or changed since it was saved (checksum mismatch)")
    config = json.loads((folder / "config.json").read_text())
    head = AlignHead(AlignConfig(**config["head"]))
    head.load_state_dict(load_file(str(folder / "weights.safetensors")), strict=True)
    return head.eval(), config


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
