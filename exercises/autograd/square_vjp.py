import torch


def grad_square(x, v):
    """Return x.grad after backpropagating the vector y = x * x with gradient=v.

    x and v are float tensors of the same shape; x does not require grad yet.
    The result is the vector-Jacobian product Jᵀv (here 2 * x * v), computed by y.backward(gradient=v).
    """
    # TODO: enable gradients on x
    # TODO: y = x * x   (a vector: y.backward() without an argument would fail)
    # TODO: y.backward(gradient=v), then return x.grad
    raise NotImplementedError
