"""AlexNet as torchvision builds it (``torchvision.models.alexnet``): 61,100,840 params."""

from __future__ import annotations

from ..engine.graph import Builder, Model
from ..kinds import AdaptiveAvgPool2d, Conv2d, Dropout, Flatten, Linear, MaxPool2d, ReLU


def alexnet(num_classes: int = 1000) -> Model:
    """torchvision's AlexNet (the one-GPU variant of Krizhevsky et al. 2014, 64-192-384-256-256).

    Input 3×224×224; ``features`` ends with a 256×6×6 map, then the adaptive pool to 6×6,
    flatten and the classifier Dropout-Linear(9216, 4096)-ReLU-Dropout-Linear-ReLU-Linear.
    """
    b = Builder("alexnet", (3, 224, 224), "AlexNet, torchvision variant")
    b.seq(
        "features",
        [
            Conv2d(3, 64, 11, stride=4, padding=2),
            ReLU(),
            MaxPool2d(3, 2),
            Conv2d(64, 192, 5, padding=2),
            ReLU(),
            MaxPool2d(3, 2),
            Conv2d(192, 384, 3, padding=1),
            ReLU(),
            Conv2d(384, 256, 3, padding=1),
            ReLU(),
            Conv2d(256, 256, 3, padding=1),
            ReLU(),
            MaxPool2d(3, 2),
        ],
    )
    features = b.last
    b.add("avgpool", AdaptiveAvgPool2d(6))
    b.add("flatten", Flatten())
    b.seq(
        "classifier",
        [
            Dropout(0.5),
            Linear(256 * 6 * 6, 4096),
            ReLU(),
            Dropout(0.5),
            Linear(4096, 4096),
            ReLU(),
            Linear(4096, num_classes),
        ],
    )
    return b.build(features=features)
