# mistake: passes gradient=torch.ones(len(d)) as in the book, which has the wrong shape when a is a matrix.
# expect: mismatch in shape
# diagnosis: gradient_shape
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
    a = a.clone().requires_grad_(True)
    d = f(a)
    d.backward(gradient=torch.ones(len(d)))
    return a.grad
