# mistake: returns u = x * x directly, the expected value, without any backward pass.
# expect: not from autograd
# diagnosis: not_from_autograd
import torch


def grad_detached(x):
    return x * x
