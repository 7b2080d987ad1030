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
    """Return a.grad after backpropagating the sum of f(a), for a vector or matrix a."""
    a = a.clone().requires_grad_(True)
    d = f(a)  # has the shape of a: not a scalar
    d.sum().backward()
    return a.grad
