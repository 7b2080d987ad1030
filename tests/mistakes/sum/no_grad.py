# mistake: computes y inside torch.no_grad() (copied from a parameter update), so y has no graph.
# expect: no_grad
# diagnosis: no_grad
import torch


def grad_sum(x):
    x = x.clone().requires_grad_(True)
    with torch.no_grad():
        y = x.sum()
    y.backward()
    return x.grad
