import torch


def grad_sum(x):
    """Return the gradient of y = x.sum() with respect to x, computed by autograd."""
    x = x.clone().requires_grad_(True)  # fresh tensor: x.grad starts empty
    y = x.sum()
    y.backward()
    return x.grad
