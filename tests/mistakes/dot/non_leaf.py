# mistake: x = x.requires_grad_() * 1.0 makes x a non-leaf tensor, whose .grad stays None.
# expect: non-leaf
# diagnosis: non_leaf_grad
import torch


def grad_dot(x):
    x = x.requires_grad_() * 1.0
    y = 2 * torch.dot(x, x)
    y.backward()
    return x.grad
