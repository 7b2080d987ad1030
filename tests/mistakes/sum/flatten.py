# mistake: flattens x before enabling gradients, so the returned gradient is flat and has the wrong shape for a matrix x.
# expect: wrong shape
# diagnosis: wrong_shape
import torch


def grad_sum(x):
    x = x.flatten().clone().requires_grad_(True)
    y = x.sum()
    y.backward()
    return x.grad
