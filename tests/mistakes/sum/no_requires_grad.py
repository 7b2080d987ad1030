# mistake: forgets to enable gradients on x before computing y.
# expect: does not require grad
import torch


def grad_sum(x):
    y = x.sum()
    y.backward()
    return x.grad
