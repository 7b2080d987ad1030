import torch


def grad_log_sin(x):
    """Return f'(x) elementwise for f(x) = log(x**2) * sin(x) + 1/x, computed by autograd."""
    x = x.clone().requires_grad_(True)
    y = torch.log(x ** 2) * torch.sin(x) + 1 / x
    y.sum().backward()
    return x.grad
