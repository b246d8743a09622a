"""VGG accounting by pure arithmetic: published totals, and PyTorch (meta device) as reference."""

import tracemalloc

import pytest

from petnet.errors import PetnetError
from petnet.conv import output_size
from petnet.vgg.accounting import totals, vgg_layers
from petnet.vgg.configs import CONFIGS, resolve

torch = pytest.importorskip("torch")
from tests.vgg.helpers import torch_layer_stats, torch_param_count, torch_vgg  # noqa: E402

# Published totals (Keras applications / torchvision model cards) -- not computed by our code.
PUBLISHED = {"A": 132_863_336, "B": 133_047_848, "D": 138_357_544, "E": 143_667_240}


@pytest.mark.parametrize("config", list(PUBLISHED))
def test_published_parameter_counts(config):
    assert totals(vgg_layers(config))["total_params"] == PUBLISHED[config]


def test_vgg16_conv_params_and_macs():
    t = totals(vgg_layers("D"))
    assert t["conv_params"] == 14_714_688
    assert round(t["total_macs"] / 1e9, 2) == 15.47


def test_conv1_figures_of_the_talk_corrected():
    conv1, conv2 = vgg_layers("D")[1:3]
    assert (conv1.name, conv1.params, conv1.macs) == ("block1_conv1", 3 * 3 * 3 * 64 + 64, 3 * 3 * 3 * 64 * 224 * 224)
    assert (conv1.params, conv1.macs) == (1_792, 86_704_128)
    assert (conv2.params, conv2.macs) == (36_928, 1_849_688_064)
    assert conv1.output_shape == (224, 224, 64) and conv1.activation_bytes == 224 * 224 * 64 * 4


@pytest.mark.parametrize("config", list(CONFIGS))
@pytest.mark.parametrize("top", [(True, None), (False, "avg"), (False, "max"), (False, None)])
def test_params_match_pytorch(config, top):
    include_top, pooling = top
    ours = totals(vgg_layers(config, (224, 224, 3), include_top, pooling, 1000))["total_params"]
    ref = torch_param_count(torch_vgg(config, 224, include_top, pooling, 1000, device="meta"))
    assert ours == ref


@pytest.mark.parametrize("config", ["A", "C", "E"])
def test_batch_norm_and_small_inputs_match_pytorch(config):
    for size, classes in ((32, 10), (64, 7), (96, 3)):
        ours = vgg_layers(config, (size, size, 3), True, None, classes, batch_norm=True)
        model = torch_vgg(config, size, True, None, classes, batch_norm=True, device="meta")
        assert totals(ours)["total_params"] == torch_param_count(model)


@pytest.mark.parametrize("config", list(CONFIGS))
def test_shapes_and_macs_match_pytorch_hooks(config):
    ours = [layer for layer in vgg_layers(config) if layer.kind not in ("InputLayer", "Flatten")]
    ref = torch_layer_stats(torch_vgg(config, 224, device="meta"), 224)
    assert len(ours) == len(ref)
    for layer, (kind, shape, macs) in zip(ours, ref):
        assert layer.output_shape == shape, layer.name
        assert layer.macs == macs, layer.name


def test_keras_layer_names():
    names = [layer.name for layer in vgg_layers("D")]
    assert names[:4] == ["input", "block1_conv1", "block1_conv2", "block1_pool"]
    assert names[-5:] == ["block5_pool", "flatten", "fc1", "fc2", "predictions"]
    assert sum(n.startswith("block") and "conv" in n for n in names) == 13
    assert [layer.name for layer in vgg_layers("E", pooling="avg", include_top=False)][-1] == "avg_pool"


def test_receptive_field_matches_a_gradient_probe():
    """One output pixel's receptive field = the input region its gradient touches (weights 1,
    average pooling has the same geometry as max pooling)."""
    model = torch_vgg("D", 96, include_top=False, pool=lambda: torch.nn.AvgPool2d(2, 2))
    layers = vgg_layers("D", (96, 96, 3), include_top=False)[1:11]      # up to block3_pool
    mods = [m for m in model if isinstance(m, (torch.nn.Conv2d, torch.nn.AvgPool2d))]
    with torch.no_grad():
        for m in mods:
            if isinstance(m, torch.nn.Conv2d):
                m.weight.fill_(1.0)
                m.bias.zero_()
    for i, layer in enumerate(layers):
        x = torch.zeros(1, 3, 96, 96, requires_grad=True)
        upto = list(model).index(mods[i]) + 1
        out = torch.nn.Sequential(*list(model)[:upto])(x + 1.0)
        h = out.shape[2]
        out[0, 0, h // 2, h // 2].backward()
        cols = (x.grad[0, 0].abs().sum(0) > 0).nonzero()
        assert int(cols.max() - cols.min() + 1) == layer.receptive_field, layer.name


def test_summary_allocates_no_weights():
    tracemalloc.start()
    layers = vgg_layers("E")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert totals(layers)["total_params"] == PUBLISHED["E"]
    assert peak < 1_000_000          # far below the 575 MB of VGG19's float32 weights


def test_output_size_formula():
    # the talk's (W - K + 2P) / S + 1, floored: petnet.conv.output_size, shared with petnet.nn
    assert output_size(224, 3, 1, 1, 1) == 224
    assert output_size(224, 2, 2, 0, 0) == 112
    assert output_size(7, 3, 2, 0, 0) == 3


def test_errors():
    with pytest.raises(PetnetError):
        resolve("F")
    with pytest.raises(PetnetError, match="too small"):
        vgg_layers("D", (16, 16, 3))
    with pytest.raises(PetnetError):
        vgg_layers("D", pooling="median")
    assert resolve("vgg16")[0] == "D" and resolve("19")[0] == "E"
