# mistake: copies the book's backward(torch.ones_like(x)) and ignores v, returning 2x.
# expect: was ignored
# diagnosis: gradient_ignored
import torch


def grad_square(x, v):
    x = x.clone().requires_grad_(True)
    y = x * x
    y.backward(torch.ones_like(x))
    return x.grad
