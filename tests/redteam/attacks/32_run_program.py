# attack: run a shell command
# target: dot
# expect: operation not permitted
# needs: seccomp
import subprocess

def grad_dot(x):
    subprocess.run(["touch", "/tmp/pwned-shell"], check=True)


def grad_sum(x):
    x = x.clone().requires_grad_(True)
    x.sum().backward()
    return x.grad


def grad_square(x, v):
    x = x.clone().requires_grad_(True)
    (x * x).backward(gradient=v)
    return x.grad
