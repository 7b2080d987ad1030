import torch


def dsin(x):
    """Return d/dx sin(x) at every element of x, computed by autograd (no cos)."""
    x = x.clone().requires_grad_(True)
    y = torch.sin(x)
    y.sum().backward()  # each y_i depends only on x_i
    return x.grad
