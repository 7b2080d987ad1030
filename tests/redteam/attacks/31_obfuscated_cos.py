# attack: reach cos through getattr with a computed name
# target: sin_derivative
# expect: forbidden
import torch

def dsin(x):
    x = x.clone().requires_grad_(True)
    torch.sin(x).sum().backward()
    return x.grad * 0 + getattr(torch, "co" + "s")(x.detach())


def grad_sum(x):
    x = x.clone().requires_grad_(True)
    x.sum().backward()
    return x.grad


def grad_square(x, v):
    x = x.clone().requires_grad_(True)
    (x * x).backward(gradient=v)
    return x.grad
