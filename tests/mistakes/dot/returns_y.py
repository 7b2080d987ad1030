# mistake: runs backward but returns y (a scalar) instead of x.grad.
# expect: returned y
# diagnosis: returned_output
import torch


def grad_dot(x):
    x.requires_grad_(True)
    y = 2 * torch.dot(x, x)
    y.backward()
    return y
