# mistake: returns d = f(a) instead of a.grad.
# expect: returned y
# diagnosis: returned_output
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
    a.requires_grad_(True)
    d = f(a)
    d.backward()
    return d
