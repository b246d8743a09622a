"""petnet.conv.correlate, both of its strategies (im2col + GEMM, per-tap accumulation), against PyTorch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from petnet.conv import correlate, resolve_padding


@pytest.mark.parametrize("c,f", [(1, 1), (2, 2), (1, 4), (3, 5), (8, 2)])  # c*f <= 4 uses taps
@pytest.mark.parametrize("k,s,padding", [((3, 3), 1, "same"), ((1, 7), 1, "same"), ((4, 3), 2, "same"),
                                         ((3, 3), 2, "valid"), ((5, 5), 3, ((1, 2), (0, 3)))])
def test_correlate_matches_torch(c, f, k, s, padding):
    rng = np.random.default_rng(c * 10 + f)
    x = rng.normal(size=(2, 9, 11, c))
    kernel = rng.normal(size=(*k, c, f))
    out = correlate(x, kernel, s, padding)
    (t, b), (l, r) = resolve_padding(padding, (9, 11), k, (s, s))
    ref = F.conv2d(F.pad(torch.tensor(x).permute(0, 3, 1, 2), (l, r, t, b)),
                   torch.tensor(kernel).permute(3, 2, 0, 1), stride=s).permute(0, 2, 3, 1).numpy()
    assert out.shape == ref.shape
    np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("mode,np_mode", [("reflect", "reflect"), ("edge", "edge"), ("symmetric", "symmetric")])
def test_border_modes_pad_like_numpy(mode, np_mode):
    x = np.arange(20.0).reshape(1, 4, 5, 1)
    k = np.zeros((3, 3, 1, 1))
    k[0, 0] = 1.0  # picks the top-left neighbour: the padded pixel at the corner
    out = correlate(x, k, 1, "same", mode=mode)
    padded = np.pad(x[0, :, :, 0], 1, mode=np_mode)
    np.testing.assert_array_equal(out[0, :, :, 0], padded[:4, :5])


def test_output_hw_is_the_talk_formula_per_axis():
    from petnet.conv import output_hw
    assert output_hw((224, 224), (3, 3), (1, 1), "same") == (224, 224)
    assert output_hw((7, 5), (3, 3), (2, 2), "same") == (4, 3)          # TF: ceil(n / s)
    assert output_hw((7, 5), (3, 3), (2, 2), "valid") == (3, 2)         # floor((n - k) / s) + 1
    assert output_hw((7, 5), (3, 3), (1, 1), ((1, 1), (0, 2))) == (7, 5)
    assert min(output_hw((2, 2), (3, 3), (1, 1), "valid")) < 1          # does not fit
