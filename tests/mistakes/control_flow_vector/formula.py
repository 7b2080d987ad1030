# mistake: returns f(a) / a computed by hand instead of backpropagating.
# expect: not from autograd
# diagnosis: not_from_autograd
import torch


def f(a):
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c


def grad_f_vector(a):
    return f(a) / a
