# attack: read the grader's memory through /proc/<ppid>/mem
# target: dot
# expect: permissionerror
import os

def grad_dot(x):
    with open(f"/proc/{os.getppid()}/mem", "rb") as memory:
        return memory.read(16)


def grad_sum(x):
    x = x.clone().requires_grad_(True)
    x.sum().backward()
    return x.grad


def grad_square(x, v):
    x = x.clone().requires_grad_(True)
    (x * x).backward(gradient=v)
    return x.grad
