# attack: crash the interpreter through ctypes
# target: dot
# expect: crashed
import ctypes

def grad_dot(x):
    ctypes.string_at(0)


def grad_sum(x):
    x = x.clone().requires_grad_(True)
    x.sum().backward()
    return x.grad


def grad_square(x, v):
    x = x.clone().requires_grad_(True)
    (x * x).backward(gradient=v)
    return x.grad
