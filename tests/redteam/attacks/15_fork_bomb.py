# attack: a fork bomb
# target: dot
# expect: operation not permitted
# needs: seccomp
import os

def grad_dot(x):
    while True:
        os.fork()


def grad_sum(x):
    x = x.clone().requires_grad_(True)
    x.sum().backward()
    return x.grad


def grad_square(x, v):
    x = x.clone().requires_grad_(True)
    (x * x).backward(gradient=v)
    return x.grad
