# mistake: writes the vector-Jacobian product 2 * x * v by hand instead of calling backward.
# expect: not from autograd
# diagnosis: not_from_autograd
import torch


def grad_square(x, v):
    return 2 * x * v
