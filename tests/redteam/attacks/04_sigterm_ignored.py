# attack: ignore SIGTERM and spin forever
# target: dot
# expect: time limit
import signal

def grad_dot(x):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        pass


def grad_sum(x):
    x = x.clone().requires_grad_(True)
    x.sum().backward()
    return x.grad


def grad_square(x, v):
    x = x.clone().requires_grad_(True)
    (x * x).backward(gradient=v)
    return x.grad
