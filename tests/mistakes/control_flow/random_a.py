# mistake: copies the book's a = torch.randn(size=(), requires_grad=True) and ignores the input a.
# expect: differs from the expected gradient
# diagnosis: wrong_value
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
    a = torch.randn(size=(), requires_grad=True)
    d = f(a)
    d.backward()
    return a.grad
