# mistake: returns x.grad.t(), thinking of the gradient as a row vector, which transposes it for a matrix x.
# expect: transposed
# diagnosis: transposed
import torch


def grad_detached(x):
    x = x.clone().requires_grad_(True)
    u = (x * x).detach()
    z = u * x
    z.sum().backward()
    return x.grad.t()
