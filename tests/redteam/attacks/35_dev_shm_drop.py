# attack: leave a file in /dev/shm for a later submission to find
# target: dot
# expect: dropped
# needs: namespaces
def grad_dot(x):
    with open("/dev/shm/pwned-shm", "w") as handle:
        handle.write("hello from a previous student")
    raise RuntimeError("dropped a file")


def grad_sum(x):
    x = x.clone().requires_grad_(True)
    x.sum().backward()
    return x.grad


def grad_square(x, v):
    x = x.clone().requires_grad_(True)
    (x * x).backward(gradient=v)
    return x.grad
