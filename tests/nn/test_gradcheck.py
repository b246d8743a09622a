"""petnet.nn.gradcheck: every layer's backward agrees with central differences in float64."""

import numpy as np

from petnet.nn import Dense
from petnet.nn.gradcheck import check_layer, gradcheck_all, rel_error


def test_gradcheck_all_layers_pass():
    r = gradcheck_all(seed=0)
    expected = {"Dense", "Conv2D", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D",
                "GlobalMaxPooling2D", "Flatten", "Dropout", "BatchNormalization", "Add", "SoftmaxCrossEntropy",
                "MeanSquaredError", "ConvNet (end to end)", "Residual model (end to end)",
                "Activation(relu)", "Activation(softmax)", "Activation(hardlim)", "Activation(tansig)"}
    assert expected <= set(r["layers"])
    assert r["max_rel_error"] == max(r["layers"].values())
    assert r["max_rel_error"] < 1e-7


def test_gradcheck_catches_a_wrong_backward():
    class Broken(Dense):
        def backward(self, cache, dy, need_dx=True):
            dx, grads = super().backward(cache, dy, need_dx)
            return dx, [grads[0] * 1.01] + grads[1:]     # a 1% error in dL/dW
    err = check_layer(Broken(3), np.random.default_rng(0).standard_normal((4, 5)))
    assert err > 1e-3
    assert rel_error([1.0, 2.0], [1.0, 2.0]) == 0.0
