# attack: replace Tensor.backward so a fake record appears
# target: dot
# expect: patched torch
import torch

def grad_dot(x):
    torch.Tensor.backward = lambda self, *args, **kwargs: None
    x.requires_grad_(True)
    (2 * torch.dot(x, x)).backward()
    return 4 * x.detach()


def grad_sum(x):
    x = x.clone().requires_grad_(True)
    x.sum().backward()
    return x.grad


def grad_square(x, v):
    x = x.clone().requires_grad_(True)
    (x * x).backward(gradient=v)
    return x.grad
