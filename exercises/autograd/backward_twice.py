import torch


def grad_twice(x):
    """Return x.grad after running backward twice on y = 2 * xᵀx, without zeroing in between.

    x is a 1-D float tensor that does not require grad yet.
    Gradients accumulate, so the result should be 4x + 4x = 8x.
    """
    # TODO: enable gradients on x
    # TODO: y = 2 * torch.dot(x, x)
    # TODO: y.backward(retain_graph=True)   (keep the graph for the second call)
    # TODO: y.backward() again, then return x.grad
    raise NotImplementedError
