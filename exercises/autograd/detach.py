import torch


def grad_detached(x):
    """Return x.grad for z = u * x, where u = (x * x).detach() is treated as a constant.

    x is a float tensor that does not require grad yet.
    Backpropagate z.sum(); the result should equal u = x * x (not 3 * x**2).
    """
    # TODO: enable gradients on x
    # TODO: y = x * x; u = y.detach(); z = u * x
    # TODO: z.sum().backward(), then return x.grad
    raise NotImplementedError
