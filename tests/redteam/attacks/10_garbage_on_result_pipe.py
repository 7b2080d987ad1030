# attack: scribble binary garbage on every inherited file descriptor
# target: dot
# expect: malformed
import os

def grad_dot(x):
    for fd in range(3, 64):
        try:
            os.write(fd, b"\xff\x00garbage" * 100)
        except OSError:
            pass


def grad_sum(x):
    x = x.clone().requires_grad_(True)
    x.sum().backward()
    return x.grad


def grad_square(x, v):
    x = x.clone().requires_grad_(True)
    (x * x).backward(gradient=v)
    return x.grad
