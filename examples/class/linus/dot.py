import torch


def grad_dot(x):
    """Return the gradient of y = 2 * xᵀx with respect to x, computed by autograd."""
    x = x.clone().requires_grad_(True)  # a place to store the gradient
    y = 2 * torch.dot(x, x)
    y.backward()
    return x.grad
