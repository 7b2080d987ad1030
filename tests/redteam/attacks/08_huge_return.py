# attack: return 10^9 elements (4 GB) to exhaust the grader's memory
# target: dot
# expect: memory
import torch

def grad_dot(x):
    return torch.ones(10**9)


def grad_sum(x):
    x = x.clone().requires_grad_(True)
    x.sum().backward()
    return x.grad


def grad_square(x, v):
    x = x.clone().requires_grad_(True)
    (x * x).backward(gradient=v)
    return x.grad
