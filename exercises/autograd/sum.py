import torch


def grad_sum(x):
    """Return the gradient of y = x.sum() with respect to x, computed by autograd.

    x is a float tensor (any shape) that does not require grad yet.
    The result should be a tensor of ones shaped like x, but it must come from y.backward().
    """
    # TODO: enable gradients on x
    # TODO: y = x.sum(); y.backward()
    # TODO: return x.grad
    raise NotImplementedError
