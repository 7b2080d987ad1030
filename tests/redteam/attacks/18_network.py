# attack: phone home over the network
# target: dot
# expect: operation not permitted
# needs: seccomp
import socket

def grad_dot(x):
    socket.create_connection(("127.0.0.1", 9), timeout=1).sendall(b"answers please")


def grad_sum(x):
    x = x.clone().requires_grad_(True)
    x.sum().backward()
    return x.grad


def grad_square(x, v):
    x = x.clone().requires_grad_(True)
    (x * x).backward(gradient=v)
    return x.grad
