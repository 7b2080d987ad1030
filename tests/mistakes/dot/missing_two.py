# mistake: computes y = x·x and forgets the factor 2 of y = 2xᵀx, so the gradient is 2x instead of 4x.
# expect: constant factor
# diagnosis: constant_factor
import torch


def grad_dot(x):
    x = x.clone().requires_grad_(True)
    y = torch.dot(x, x)
    y.backward()
    return x.grad
