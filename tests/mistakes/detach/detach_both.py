# mistake: detaches x as well, so z no longer depends on anything that requires grad.
# expect: does not require grad
# diagnosis: detached_everything
import torch


def grad_detached(x):
    x = x.clone().requires_grad_(True)
    u = (x * x).detach()
    z = u * x.detach()
    z.sum().backward()
    return x.grad
