# mistake: returns 8 * x by hand instead of running backward twice.
# expect: not from autograd
# diagnosis: not_from_autograd
import torch


def grad_twice(x):
    return 8 * x
