"""User mistakes give a PetnetError that says what to do, never a NumPy broadcasting traceback."""

import numpy as np
import pytest

from petnet.errors import PetnetError
from petnet.nn import Add, Conv2D, Dense, Flatten, Input, MaxPooling2D, Model, Sequential


def cnn():
    m = Sequential([Conv2D(4, 3, activation="relu", input_shape=(8, 8, 1)), MaxPooling2D(), Flatten(),
                    Dense(3)])
    m.compile(optimizer="adam", loss="softmax_cross_entropy", metrics=["accuracy"])
    return m


@pytest.mark.parametrize("x,match", [
    (np.zeros((2, 8, 8)), r"expects inputs of shape \(None, 8, 8, 1\), got \(2, 8, 8\)"),
    (np.zeros((2, 8, 8, 3)), r"expects inputs of shape \(None, 8, 8, 1\)"),
    (np.zeros((8, 8, 1)), "batch axis"),
    (np.zeros((2, 9, 8, 1)), r"got \(2, 9, 8, 1\)"),
])
def test_wrong_input_shape(x, match):
    with pytest.raises(PetnetError, match=match):
        cnn().predict(x)


def test_layer_level_shape_errors():
    with pytest.raises(PetnetError, match="channel axis"):
        Conv2D(2, 3)(np.zeros((2, 8, 8)))
    with pytest.raises(PetnetError, match="Flatten"):
        Dense(2)(np.zeros((2, 4, 4, 1)))
    c = Conv2D(2, 3)
    c(np.zeros((1, 5, 5, 3)))
    with pytest.raises(PetnetError, match=r"expects input of shape \(None, 5, 5, 3\)"):
        c(np.zeros((1, 5, 5, 2)))
    with pytest.raises(PetnetError, match="does not fit"):
        Sequential([Conv2D(2, 5, input_shape=(3, 3, 1))])
    with pytest.raises(PetnetError, match="equal shape"):
        a = Input((4, 4, 2))
        Add()([Conv2D(3, 1)(a), Conv2D(2, 1)(a)])


def test_label_mismatches():
    m = cnn()
    x = np.zeros((4, 8, 8, 1))
    with pytest.raises(PetnetError, match="4 inputs but 3 labels"):
        m.fit(x, np.zeros(3, int), verbose=0)
    with pytest.raises(PetnetError, match=r"in 0\.\.2"):
        m.fit(x, np.array([0, 1, 2, 5]), verbose=0)
    with pytest.raises(PetnetError, match="do not match"):
        m.evaluate(x, np.eye(4))


def test_unknown_names():
    m = cnn()
    with pytest.raises(PetnetError, match="unknown optimizer"):
        m.compile(optimizer="adamw")
    with pytest.raises(PetnetError, match="unknown loss 'hinge'"):
        m.compile(loss="hinge")
    with pytest.raises(PetnetError, match="unknown metric"):
        m.compile(metrics=["auc"])
    with pytest.raises(PetnetError, match="no layer named 'conv9'"):
        m.get_layer("conv9")
    with pytest.raises(PetnetError, match="do not come from the given inputs"):
        Model(Input((3,)), Dense(2)(Input((3,))))
    with pytest.raises(PetnetError, match="padding must be"):
        Conv2D(2, 3, padding="full")
    with pytest.raises(PetnetError, match="Sequential takes layers"):
        Sequential(["dense"])
    with pytest.raises(PetnetError, match="unique"):
        Sequential([Dense(2, name="a"), Dense(2, name="a")])


def test_fit_before_compile_and_bad_epochs():
    m = Sequential([Dense(2)])
    with pytest.raises(PetnetError, match="compile the model first"):
        m.fit(np.zeros((2, 3)), np.zeros(2, int))
    m.compile(loss="softmax_cross_entropy")
    with pytest.raises(PetnetError, match="epochs"):
        m.fit(np.zeros((2, 3)), np.zeros(2, int), epochs=0)


def test_nan_loss_names_the_likely_cause():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3)) * 1000        # unscaled inputs
    y = x @ np.array([1.0, 2.0, 3.0])
    m = Sequential([Dense(1)])
    m.compile(optimizer="sgd", loss="mse", lr=1.0)
    with pytest.raises(PetnetError, match="learning rate .* too high.*not scaled"):
        m.fit(x, y, epochs=20, batch_size=16, verbose=0)


def test_nan_or_inf_data_is_refused_before_training():
    m = cnn()
    x, y = np.zeros((5, 8, 8, 1)), np.array([0, 1, 2, 0, 1])
    x[3, 2, 2, 0] = np.nan
    x[4, 0, 0, 0] = np.inf
    for call in (lambda: m.fit(x, y, epochs=1, verbose=0), lambda: m.train_on_batch(x, y),
                 lambda: m.evaluate(x, y)):
        with pytest.raises(PetnetError, match="2 of the 5 inputs contain NaN or infinity.*sample 3"):
            call()
    reg = Sequential([Dense(1, input_shape=(2,))])
    reg.compile(optimizer="sgd", loss="mse")
    with pytest.raises(PetnetError, match="targets contain NaN"):
        reg.fit(np.zeros((3, 2)), np.array([1.0, np.nan, 2.0]), epochs=1, verbose=0)
