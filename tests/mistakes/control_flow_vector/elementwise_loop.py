# mistake: applies f to each element separately, so every element gets its own k instead of one k for the whole tensor.
# expect: each element separately
# diagnosis: elementwise
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
    d = torch.stack([f(ai) for ai in a.flatten()])
    d.sum().backward()
    return a.grad
