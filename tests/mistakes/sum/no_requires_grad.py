# mistake: forgets to enable gradients on x before computing y.
# expect: does not require grad
# diagnosis: requires_grad_missing
import torch


def grad_sum(x):
    y = x.sum()
    y.backward()
    return x.grad
