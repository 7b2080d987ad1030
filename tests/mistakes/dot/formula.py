# mistake: returns the hand-derived gradient 4 * x instead of letting autograd compute it.
# expect: not from autograd
# diagnosis: not_from_autograd
import torch


def grad_dot(x):
    return 4 * x
