# attack: a thread that never ends, joined forever
# target: dot
# expect: time limit
import threading

def grad_dot(x):
    worker = threading.Thread(target=lambda: [None for _ in iter(int, 1)])
    worker.start()
    worker.join()


def grad_sum(x):
    x = x.clone().requires_grad_(True)
    x.sum().backward()
    return x.grad


def grad_square(x, v):
    x = x.clone().requires_grad_(True)
    (x * x).backward(gradient=v)
    return x.grad
