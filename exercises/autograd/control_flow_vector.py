import torch


def f(a):
    """The book's function (given; you do not need to change it)."""
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c


def grad_f_vector(a):
    """Return a.grad after backpropagating the sum of f(a), for a vector or matrix a.

    a is a float tensor (e.g. shape [3] or [2, 2]) that does not require grad yet.
    f(a) has the shape of a, so it is not a scalar.
    """
    # TODO: enable gradients on a
    # TODO: d = f(a)   (not a scalar!)
    # TODO: d.sum().backward(), then return a.grad
    raise NotImplementedError
