"""A model of one's own, analysed with ``archcalc summary docs/examples/my_net.py:net``."""

from torch import nn

#: the input the loader uses when none is given
INPUT_SHAPE = (3, 64, 64)


class Block(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(c)

    def forward(self, x):
        a, b = x.chunk(2, dim=1)  # half the channels pass through
        y = self.bn(self.conv(x)).relu()
        return y + x if x.shape[-1] > 8 else y  # control flow on a size just runs


def net() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, stride=2, padding=1),
        Block(16),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(16, 10),
    )
