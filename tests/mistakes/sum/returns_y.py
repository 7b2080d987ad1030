# mistake: returns y = x.sum() instead of x.grad.
# expect: returned y
# diagnosis: returned_output
import torch


def grad_sum(x):
    x = x.clone().requires_grad_(True)
    y = x.sum()
    y.backward()
    return y
