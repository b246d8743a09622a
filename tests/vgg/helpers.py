"""An independent PyTorch VGG built from the same config lists (the reference of the vgg tests)."""

from __future__ import annotations

import torch
from torch import nn

from petnet.vgg.configs import conv_spec, resolve


class NHWCFlatten(nn.Module):
    """Flatten in Keras' (H, W, C) order so dense weights can be shared with the NumPy engine."""

    def forward(self, x):
        return x.permute(0, 2, 3, 1).flatten(1)


def torch_vgg(config="D", in_size=224, include_top=True, pooling=None, classes=1000,
              batch_norm=False, fc_units=4096, device="cpu", pool=None):
    """``nn.Sequential`` VGG; ``device='meta'`` builds it without allocating any weight."""
    _, items = resolve(config)
    layers, c, size = [], 3, in_size
    for item in items:
        spec = conv_spec(item)
        if spec:
            f, k = spec
            layers.append(nn.Conv2d(c, f, k, padding=k // 2, device=device))
            if batch_norm:
                layers.append(nn.BatchNorm2d(f, device=device))
            layers.append(nn.ReLU())
            c = f
        elif item == "LRN":
            layers.append(nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0))
        else:
            layers.append(pool() if pool else nn.MaxPool2d(2, 2))
            size //= 2
    if include_top:
        n = size * size * c
        layers += [NHWCFlatten(), nn.Linear(n, fc_units, device=device), nn.ReLU(),
                   nn.Linear(fc_units, fc_units, device=device), nn.ReLU(),
                   nn.Linear(fc_units, classes, device=device), nn.Softmax(dim=1)]
    elif pooling == "avg":
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    elif pooling == "max":
        layers += [nn.AdaptiveMaxPool2d(1), nn.Flatten()]
    return nn.Sequential(*layers)


def torch_param_count(model) -> int:
    """Parameters as Keras counts them: weights + BN moving mean/variance (not num_batches_tracked)."""
    n = sum(p.numel() for p in model.parameters())
    n += sum(b.numel() for name, b in model.named_buffers() if not name.endswith("num_batches_tracked"))
    return n


def torch_layer_stats(model, in_size):
    """Forward a meta tensor (no memory, no compute) and record every Conv2d/Linear/pool output
    shape and MACs with hooks: MACs = output numel * (C_in * k * k) or in * out."""
    rows = []

    def hook(mod, inp, out):
        shape = tuple(out.shape[1:])
        if isinstance(mod, nn.Conv2d):
            macs = out.numel() * mod.in_channels * mod.kernel_size[0] * mod.kernel_size[1]
            shape = (shape[1], shape[2], shape[0])
        elif isinstance(mod, nn.Linear):
            macs = mod.in_features * mod.out_features
        else:
            macs = 0
            if len(shape) == 3:
                shape = (shape[1], shape[2], shape[0])
        rows.append((type(mod).__name__, shape, macs))

    for mod in model:
        if isinstance(mod, (nn.Conv2d, nn.Linear, nn.MaxPool2d, nn.BatchNorm2d, nn.LocalResponseNorm,
                            nn.AvgPool2d)):
            mod.register_forward_hook(hook)
    with torch.no_grad():
        model(torch.empty(1, 3, in_size, in_size, device=next(model.parameters()).device))
    return rows
