# mistake: avoids cos with the identity cos x = sin(x + pi/2), a hand-written formula instead of autograd.
# expect: not from autograd
# diagnosis: not_from_autograd
import math

import torch


def dsin(x):
    return torch.sin(x + math.pi / 2)
