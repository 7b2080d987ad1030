# attack: return NaN everywhere, hoping comparisons with NaN go the wrong way
# target: dot
# expect: nan
import torch

def grad_dot(x):
    x.requires_grad_(True)
    (2 * torch.dot(x, x)).backward()
    return x.grad * float("nan")


def grad_sum(x):
    x = x.clone().requires_grad_(True)
    x.sum().backward()
    return x.grad


def grad_square(x, v):
    x = x.clone().requires_grad_(True)
    (x * x).backward(gradient=v)
    return x.grad
