# mistake: forgets .detach(), so z = x * x * x and the gradient is 3 * x**2 instead of x**2.
# expect: not detached
# diagnosis: not_detached
import torch


def grad_detached(x):
    x = x.clone().requires_grad_(True)
    y = x * x
    u = y
    z = u * x
    z.sum().backward()
    return x.grad
