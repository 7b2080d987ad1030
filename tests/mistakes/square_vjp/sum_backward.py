# mistake: uses the book's shortcut y.sum().backward(), which is the product with ones, not with v.
# expect: was ignored
# diagnosis: gradient_ignored
import torch


def grad_square(x, v):
    x.requires_grad_(True)
    y = x * x
    y.sum().backward()
    return x.grad
