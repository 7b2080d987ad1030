# attack: os._exit(0): leave the process without raising
# target: dot
# expect: exited with status 0
import os

def grad_dot(x):
    os._exit(0)


def grad_sum(x):
    x = x.clone().requires_grad_(True)
    x.sum().backward()
    return x.grad


def grad_square(x, v):
    x = x.clone().requires_grad_(True)
    (x * x).backward(gradient=v)
    return x.grad
