# mistake: writes y = x; y *= x, thinking y = x copies x: the multiplication is done in place on the leaf x.
# expect: in-place operation
# diagnosis: inplace_leaf
import torch


def grad_square(x, v):
    x = x.clone().requires_grad_(True)
    y = x
    y *= x
    y.backward(v)
    return x.grad
