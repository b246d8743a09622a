"""Local response normalisation: forward and backward agree with torch.nn.LocalResponseNorm."""

import numpy as np
import pytest

from petnet.vgg.lrn import lrn_backward, lrn_forward

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("size", [5, 4, 3, 1])
def test_lrn_matches_torch(size):
    rng = np.random.default_rng(size)
    x = rng.standard_normal((2, 4, 5, 7)) * 30
    g = rng.standard_normal(x.shape)
    y, d = lrn_forward(x, size, 1e-2, 0.75, 2.0)
    xt = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    yt = torch.nn.LocalResponseNorm(size, 1e-2, 0.75, 2.0)(xt)
    yt.backward(torch.tensor(g.transpose(0, 3, 1, 2)))
    np.testing.assert_allclose(y, yt.detach().numpy().transpose(0, 2, 3, 1), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(lrn_backward(g, x, d, size, 1e-2, 0.75), xt.grad.numpy().transpose(0, 2, 3, 1),
                               rtol=1e-10, atol=1e-12)
