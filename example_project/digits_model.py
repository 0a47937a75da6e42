"""A small model repository: a ConvNet for scikit-learn's 8x8 digits.

This is the code a team would already have; the tests in test_tuning.py gate
it with pytest-hptune.
"""

import keras
import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.svm import SVC


def load_data(test_size=0.2, seed=0):
    """(x_train, y_train), (x_test, y_test): 8x8x1 images in [0, 1], labels 0-9.

    The test split is held out from tuning; the search validates on a split of
    the training part.
    """
    digits = load_digits()
    x = (digits.images / 16.0).astype("float32")[..., np.newaxis]
    y = digits.target.astype("int32")
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=test_size, random_state=seed, stratify=y)
    return (x_train, y_train), (x_test, y_test)


def build_model(hp):
    """The search space: filters per conv layer, dense width and Adam's learning rate."""
    model = keras.Sequential(
        [
            keras.Input(shape=(8, 8, 1)),
            keras.layers.Conv2D(hp.Choice("filters", [16, 32]), 3, padding="same", activation="relu"),
            keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Flatten(),
            keras.layers.Dense(hp.Choice("units", [32, 64]), activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(hp.Choice("learning_rate", [1e-2, 1e-3, 1e-4])),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def flat(images):
    """8x8x1 images as 64 features, for scikit-learn estimators."""
    return images.reshape(len(images), -1)


def build_estimator(hp):
    """A conditional search space: the model family, then its own settings."""
    family = hp.Choice("family", ["svc", "logistic"])
    if family == "svc":
        with hp.conditional_scope("family", ["svc"]):
            return SVC(C=hp.Float("C", 0.1, 100.0, sampling="log"), gamma="scale")
    with hp.conditional_scope("family", ["logistic"]):
        return LogisticRegression(C=hp.Float("inverse_reg", 0.01, 10.0, sampling="log"), max_iter=2000)
