# mistake: returns the book's check f(a) / a instead of the gradient computed by backward.
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


def grad_f(a):
    return f(a) / a
