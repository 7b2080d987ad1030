# mistake: returns the known second derivative -sin(x) by hand.
# expect: not from autograd
# diagnosis: not_from_autograd
import torch


def d2sin(x):
    return -torch.sin(x)
