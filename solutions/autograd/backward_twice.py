import torch


def grad_twice(x):
    """Return x.grad after two backward passes of y = 2 * xᵀx (gradients accumulate)."""
    x = x.clone().requires_grad_(True)
    y = 2 * torch.dot(x, x)
    y.backward(retain_graph=True)  # keep the graph for the second call
    y.backward()  # adds another 4x to x.grad
    return x.grad
