# attack: list the submissions folder and copy a classmate's answer
# target: dot
# expect: permissionerror
# needs: landlock
import os

def grad_dot(x):
    return os.listdir(SUBMISSIONS)


def grad_sum(x):
    x = x.clone().requires_grad_(True)
    x.sum().backward()
    return x.grad


def grad_square(x, v):
    x = x.clone().requires_grad_(True)
    (x * x).backward(gradient=v)
    return x.grad
