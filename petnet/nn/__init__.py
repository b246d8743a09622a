"""Chapters 3-4 of the talk: a from-scratch NumPy neural-network engine with hand-written backpropagation.

Keras-like and channels-last (NHWC)::

    from petnet.nn import Sequential, Conv2D, MaxPooling2D, Flatten, Dense
    model = Sequential([
        Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
        MaxPooling2D((2, 2)),
        Flatten(),
        Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=1, batch_size=64)

``fit`` is the one training loop (callbacks: ``History``, ``ProgressBar``, ``EarlyStopping``; an
``augment(xb, yb, rng)`` hook; epochs or steps). Every layer has ``forward`` (returning its output
and the cache of that call) and a hand-written ``backward`` (the chain rule); ``petnet.nn.gradcheck``
compares each one with central differences, and the tests compare each one with PyTorch.
"""

from petnet.nn.activations import Activation
from petnet.nn.callbacks import Callback, EarlyStopping, History, ProgressBar
from petnet.nn.batchnorm import BatchNormalization
from petnet.nn.conv2d import Conv2D
from petnet.nn.dense import Dense
from petnet.nn.dropout import Dropout
from petnet.nn.flatten import Flatten
from petnet.nn.layer import Layer, SymbolicTensor, reset_names, set_seed
from petnet.nn.losses import MeanSquaredError, SoftmaxCrossEntropy
from petnet.nn.merge import Add
from petnet.nn.model import Input, InputLayer, Model, Sequential, TrainingDiverged
from petnet.nn.pooling import AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, MaxPooling2D
from petnet.nn.regularizers import L2
from petnet.nn.residual import residual_block

__all__ = [
    "Activation", "Add", "AveragePooling2D", "BatchNormalization", "Callback", "Conv2D", "Dense", "Dropout",
    "EarlyStopping", "Flatten", "GlobalAveragePooling2D", "GlobalMaxPooling2D", "History", "Input", "InputLayer",
    "L2", "Layer", "MaxPooling2D", "MeanSquaredError", "Model", "ProgressBar", "Sequential", "SoftmaxCrossEntropy",
    "SymbolicTensor", "TrainingDiverged", "reset_names", "residual_block", "set_seed",
]
