import torch


def f(a):
    """The book's function: keep it as it is (its value is graded too)."""
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c


def grad_f(a):
    """Return the derivative of f at the scalar tensor a, computed by autograd.

    a is a 0-dimensional float tensor that does not require grad yet.
    f is piecewise linear, f(a) = k * a, so the result should equal f(a) / a,
    but it must come from d.backward().
    """
    # TODO: enable gradients on a
    # TODO: d = f(a); d.backward()
    # TODO: return a.grad
    raise NotImplementedError
