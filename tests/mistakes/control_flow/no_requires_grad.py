# mistake: forgets that the book created a with requires_grad=True, so d has no graph.
# expect: does not require grad
# diagnosis: requires_grad_missing
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
    d = f(a)
    d.backward()
    return a.grad
