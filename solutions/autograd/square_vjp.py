import torch


def grad_square(x, v):
    """Return x.grad after backpropagating y = x * x with gradient=v."""
    x = x.clone().requires_grad_(True)
    y = x * x
    # y is not a scalar: backward needs the vector v of the vector-Jacobian product
    y.backward(gradient=v)
    return x.grad
