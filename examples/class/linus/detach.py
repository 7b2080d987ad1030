import torch


def grad_detached(x):
    """Return x.grad for z = u * x with u = (x * x).detach() treated as a constant."""
    x = x.clone().requires_grad_(True)
    y = x * x
    u = y.detach()  # same values as y, but no history: gradients do not flow through u
    z = u * x
    z.sum().backward()
    return x.grad
