"""The engine's VGG builder: structure equals the accounting, outputs equal PyTorch's with the same weights."""

import numpy as np
import pytest

from petnet.errors import PetnetError
from petnet.vgg import VGG, VGG11, VGG16, VGG19
from petnet.vgg.accounting import totals, vgg_layers

torch = pytest.importorskip("torch")
from tests.vgg.helpers import torch_vgg  # noqa: E402


@pytest.fixture(autouse=True)
def one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def randomize(model, seed=0):
    """He-normal weights (activations keep their scale through 16 layers), random BN statistics."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        kind = type(layer).__name__
        if kind in ("Conv2D", "Dense"):
            k = layer.kernel
            fan_in = int(np.prod(k.shape[:-1]))
            layer.set_weights([rng.normal(0, np.sqrt(2 / fan_in), k.shape), rng.normal(0, 0.1, k.shape[-1])])
        elif kind == "BatchNormalization":
            c = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.5, 1.5, c), rng.normal(0, 0.1, c), rng.normal(0, 0.2, c),
                               rng.uniform(0.5, 2.0, c)])


def copy_to_torch(model, tmodel):
    """Same weights in PyTorch: conv (kh, kw, C, F) -> (F, C, kh, kw); dense (in, out) -> (out, in)."""
    ours = {kind: [l for l in model.layers if type(l).__name__ == kind]
            for kind in ("Conv2D", "Dense", "BatchNormalization")}
    theirs = {"Conv2D": [m for m in tmodel if isinstance(m, torch.nn.Conv2d)],
              "Dense": [m for m in tmodel if isinstance(m, torch.nn.Linear)],
              "BatchNormalization": [m for m in tmodel if isinstance(m, torch.nn.BatchNorm2d)]}
    with torch.no_grad():
        for kind in ours:
            assert len(ours[kind]) == len(theirs[kind])
            for l, m in zip(ours[kind], theirs[kind]):
                w = l.get_weights()
                if kind == "Conv2D":
                    m.weight.copy_(torch.from_numpy(w[0].transpose(3, 2, 0, 1).copy()))
                    m.bias.copy_(torch.from_numpy(w[1]))
                elif kind == "Dense":
                    m.weight.copy_(torch.from_numpy(w[0].T.copy()))
                    m.bias.copy_(torch.from_numpy(w[1]))
                else:
                    m.weight.copy_(torch.from_numpy(w[0]))
                    m.bias.copy_(torch.from_numpy(w[1]))
                    m.running_mean.copy_(torch.from_numpy(w[2]))
                    m.running_var.copy_(torch.from_numpy(w[3]))
                    m.eps = l.epsilon
    tmodel.eval()


def torch_forward(tmodel, x):
    with torch.no_grad():
        return tmodel(torch.from_numpy(x.transpose(0, 3, 1, 2).copy())).numpy()


def test_vgg16_forward_matches_pytorch():
    model = VGG16(include_top=True, input_shape=(32, 32, 3), classes=5)
    randomize(model)
    tmodel = torch_vgg("D", 32, classes=5)
    copy_to_torch(model, tmodel)
    x = np.random.default_rng(1).random((3, 32, 32, 3), dtype=np.float32)
    probs = model.predict(x)
    ref = torch_forward(tmodel, x)
    assert probs.shape == (3, 5)
    np.testing.assert_allclose(probs, ref, atol=1e-5)
    assert np.ptp(probs) > 0.05            # far from uniform: the comparison is not of constant outputs
    # the logits too (same weights, linear classifier)
    logits_model = VGG("D", True, (32, 32, 3), classes=5, classifier_activation="linear")
    logits_model.set_weights(model.get_weights())
    logits = logits_model.predict(x)
    ref_logits = torch_forward(tmodel[:-1], x)
    np.testing.assert_allclose(logits, ref_logits, rtol=1e-4, atol=1e-4 * np.abs(ref_logits).max())


def test_lrn_batchnorm_forward_and_backward_match_pytorch():
    model = VGG("A-LRN", True, (32, 32, 3), classes=4, batch_norm=True, fc_units=32,
                classifier_activation="linear")
    randomize(model, seed=3)
    tmodel = torch_vgg("A-LRN", 32, classes=4, batch_norm=True, fc_units=32)[:-1]
    copy_to_torch(model, tmodel)
    x = np.random.default_rng(2).random((2, 32, 32, 3))
    out, tape = model.forward(x.astype(np.float32))
    xt = torch.tensor(x.transpose(0, 3, 1, 2), dtype=torch.float32, requires_grad=True)
    ref = tmodel(xt)
    np.testing.assert_allclose(out, ref.detach().numpy(), rtol=1e-4, atol=1e-4 * float(ref.detach().abs().max()))
    g = np.random.default_rng(4).standard_normal(out.shape).astype(np.float32)
    dx, _ = model.backward(tape, g)
    ref.backward(torch.from_numpy(g))
    ref_dx = xt.grad.numpy().transpose(0, 2, 3, 1)
    np.testing.assert_allclose(dx, ref_dx, rtol=1e-3, atol=1e-3 * np.abs(ref_dx).max())


@pytest.mark.parametrize("config", ["A", "A-LRN", "B", "C", "D", "E"])
def test_structure_equals_the_accounting(config):
    kw = dict(include_top=True, pooling=None, classes=7, fc_units=16)
    model = VGG(config, input_shape=(32, 32, 3), **kw)
    rows = {r.name: r for r in vgg_layers(config, (32, 32, 3), **kw)}
    assert model.count_params() == totals(list(rows.values()))["total_params"]
    named = [l for l in model.layers if l.name in rows]
    assert len(named) == len(rows) - 1                      # every row but the input
    for layer in named:
        assert tuple(layer.output_shape) == rows[layer.name].output_shape, layer.name
        assert layer.count_params() == rows[layer.name].params, layer.name


def test_keras_signatures_and_names():
    m = VGG11(include_top=False, input_shape=(32, 32, 3), pooling="avg")
    assert m.layers[-1].name == "avg_pool" and tuple(m.output_shape) == (512,)
    m = VGG19(include_top=False, input_shape=(64, 48, 3), pooling="max")
    assert m.layers[-1].name == "max_pool"
    assert [l.name for l in m.layers if "conv" in l.name][-1] == "block5_conv4"
    m = VGG16(include_top=False, input_shape=(32, 32, 3))
    assert m.layers[-1].name == "block5_pool" and tuple(m.output_shape) == (1, 1, 512)
    conv = m.get_layer("block1_conv1")
    assert conv.filters == 64 and tuple(conv.kernel_size) == (3, 3) and conv.padding == "same"
    with pytest.raises(PetnetError):
        VGG16(input_shape=(16, 16, 3))
    with pytest.raises(PetnetError):
        VGG16(include_top=False, pooling="mean", input_shape=(32, 32, 3))
