# mistake: detaches x inside y instead of detaching y, so half of y's dependence on x is still tracked (gradient 2 * x**2).
# expect: detach in the wrong place
# diagnosis: detach_misplaced
import torch


def grad_detached(x):
    x = x.clone().requires_grad_(True)
    u = x.detach() * x
    z = u * x
    z.sum().backward()
    return x.grad
