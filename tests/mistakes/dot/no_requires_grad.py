# mistake: forgets x.requires_grad_(True), so y has no graph and y.backward() fails.
# expect: does not require grad
# diagnosis: requires_grad_missing
import torch


def grad_dot(x):
    y = 2 * torch.dot(x, x)
    y.backward()
    return x.grad
