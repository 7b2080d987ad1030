# mistake: runs backward only once, returning 4x.
# expect: accumulate
# diagnosis: not_accumulated
import torch


def grad_twice(x):
    x = x.clone().requires_grad_(True)
    y = 2 * torch.dot(x, x)
    y.backward(retain_graph=True)
    return x.grad
