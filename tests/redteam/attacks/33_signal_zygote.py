# attack: kill the process that forks the sandboxes
# target: dot
# expect: operation not permitted
# needs: landlock
import os
import signal

def grad_dot(x):
    os.kill(os.getppid(), signal.SIGKILL)


def grad_sum(x):
    x = x.clone().requires_grad_(True)
    x.sum().backward()
    return x.grad


def grad_square(x, v):
    x = x.clone().requires_grad_(True)
    (x * x).backward(gradient=v)
    return x.grad
